// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // On phones, fold the product filters away so the products come first.
  if (window.matchMedia("(max-width: 800px)").matches) {
    document.querySelectorAll("details[data-collapse-on-phone]").forEach((el) => {
      el.open = false;
    });
  }
});

// Product gallery: a thumbnail shows its picture in the main image (without JS it opens it).
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-swap-main]");
  const main = document.getElementById("main-image");
  if (!link || !main) return;
  event.preventDefault();
  const thumb = link.querySelector("img");
  const [src, alt] = [main.src, main.alt];
  main.src = thumb.src;
  main.alt = thumb.alt;
  thumb.src = src;
  thumb.alt = alt;
  link.href = src;
});

// CSRF for visitors without a cookie (shop/lazy.py): store pages set no cookie until a form is
// sent, so the token is made here, at that moment: a random secret set as the CSRF cookie and
// sent with the form or the htmx request (Django's double-submit check).
function agoraCsrfToken() {
  const name = document.body.dataset.csrfCookie || "csrftoken";
  const found = document.cookie.split("; ").find((part) => part.startsWith(name + "="));
  if (found) return decodeURIComponent(found.slice(name.length + 1));
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const token = Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${name}=${token}; path=/; max-age=31449600; SameSite=Lax${secure}`;
  return token;
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  let field = form.querySelector("input[name=csrfmiddlewaretoken]");
  if (field && field.value) return;
  if (!field) {
    field = document.createElement("input");
    field.type = "hidden";
    field.name = "csrfmiddlewaretoken";
    form.prepend(field);
  }
  field.value = agoraCsrfToken();
}, true);

document.addEventListener("htmx:configRequest", (event) => {
  if (event.detail.verb === "get" || event.detail.headers["X-CSRFToken"]) return;
  event.detail.headers["X-CSRFToken"] = agoraCsrfToken();
});

// The account menu (a native <details>): Escape closes it and gives the focus back to its
// summary; a click or focus outside closes it. Without this file it still opens and closes.
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const menu = document.querySelector("details.account-menu[open]");
  if (!menu) return;
  menu.open = false;
  menu.querySelector("summary").focus();
});
for (const kind of ["click", "focusin"]) {
  document.addEventListener(kind, (event) => {
    const menu = document.querySelector("details.account-menu[open]");
    if (menu && !menu.contains(event.target)) menu.open = false;
  });
}
