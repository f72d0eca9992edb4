// Product picker under the post editor: a click inserts [[product:slug]] at the cursor.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-insert-product]");
  if (!button) return;
  event.preventDefault();
  var area = document.getElementById("id_body");
  if (!area) return;
  var token = "[[product:" + button.getAttribute("data-insert-product") + "]]";
  var start = area.selectionStart || area.value.length;
  var end = area.selectionEnd || start;
  area.value = area.value.slice(0, start) + token + area.value.slice(end);
  area.focus();
  area.selectionStart = area.selectionEnd = start + token.length;
});
