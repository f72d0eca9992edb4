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
