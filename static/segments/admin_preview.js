// Show the preview's 422 answer (a rule the store refuses) instead of dropping it.
document.addEventListener("htmx:beforeSwap", function (event) {
  if (event.detail.xhr.status === 422 || event.detail.xhr.status === 403) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
