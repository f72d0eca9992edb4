// Small progressive enhancements; every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // On phones, fold the product filters away so the products come first.
  if (window.matchMedia("(max-width: 800px)").matches) {
    document.querySelectorAll("details[data-collapse-on-phone]").forEach((el) => {
      el.open = false;
    });
  }
});
