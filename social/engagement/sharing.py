"""Where each share channel sends the shopper, given the tracked link to share."""

from urllib.parse import quote, urlencode

from .models import ShareChannel

# Channels that open the network's own share page in a new window.
NETWORK_CHANNELS = [
    ShareChannel.FACEBOOK,
    ShareChannel.X,
    ShareChannel.LINKEDIN,
    ShareChannel.PINTEREST,
    ShareChannel.WHATSAPP,
]
# In the order the share bar shows them.
BAR_CHANNELS = [
    *NETWORK_CHANNELS,
    ShareChannel.EMAIL,
    ShareChannel.COPY,
    ShareChannel.NATIVE,
]


def network_url(channel: str, *, url: str, title: str, image: str | None = None) -> str | None:
    """The URL that shares ``url``: a network's share page, a mailto: link, or None for
    channels the page handles itself (copy link, the browser's share sheet)."""
    if channel == ShareChannel.FACEBOOK:
        return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})
    if channel == ShareChannel.X:
        return "https://twitter.com/intent/tweet?" + urlencode({"url": url, "text": title})
    if channel == ShareChannel.LINKEDIN:
        return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})
    if channel == ShareChannel.PINTEREST:
        params = {"url": url, "description": title}
        if image:
            params["media"] = image
        return "https://www.pinterest.com/pin/create/button/?" + urlencode(params)
    if channel == ShareChannel.WHATSAPP:
        return "https://wa.me/?" + urlencode({"text": f"{title} {url}"})
    if channel == ShareChannel.EMAIL:
        subject = quote(title, safe="")
        body = quote(f"I thought you might like this: {title}\n{url}", safe="")
        return f"mailto:?subject={subject}&body={body}"
    return None
