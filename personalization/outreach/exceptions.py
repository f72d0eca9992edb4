from shop.exceptions import ShopError  # the API maps ShopErrors to problems


class OutreachError(Exception):
    """A request about marketing email that cannot be done; the message says why (HTTP 400)."""

    status = 400


class CampaignNotDraft(OutreachError, ShopError):
    """Only a draft campaign can be edited; the campaign has been scheduled or cancelled
    (HTTP 409, problem code ``campaign_not_draft``)."""

    status = 409
    status_code = 409
