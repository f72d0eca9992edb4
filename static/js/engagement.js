/* Agora engagement: copy-link and Web Share API for the share bar, errors of like buttons.
   Everything works without this file: share forms post and redirect, like forms post. */
(function () {
  "use strict";
  if (window.agoraEngagement) return;
  window.agoraEngagement = true;

  function say(el, text) {
    var bar = el.closest("[data-share-bar]");
    var status = bar ? bar.querySelector(".share-status") : null;
    if (status) status.textContent = text;
  }

  function trackedLink(form) {
    return fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "Sharing did not work, please try again.");
        return data;
      });
    });
  }

  function revealNativeShare(root) {
    if (!navigator.share) return;
    root.querySelectorAll("[data-share-native]").forEach(function (el) { el.hidden = false; });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var kind = form.getAttribute && form.getAttribute("data-share");
    if (kind === "copy" && navigator.clipboard && window.isSecureContext) {
      event.preventDefault();
      trackedLink(form)
        .then(function (data) { return navigator.clipboard.writeText(data.url); })
        .then(function () { say(form, "Link copied. Paste it anywhere to share."); })
        .catch(function (error) { say(form, error.message); });
    } else if (kind === "native" && navigator.share) {
      event.preventDefault();
      trackedLink(form)
        .then(function (data) { return navigator.share({ title: data.title, url: data.url }); })
        .catch(function (error) { if (error.name !== "AbortError") say(form, error.message); });
    }
  });

  // A like on something that has gone: htmx does not swap 4xx answers, so say why here.
  document.addEventListener("htmx:responseError", function (event) {
    var form = event.detail.elt;
    if (!form || !form.hasAttribute || !form.hasAttribute("data-like-form")) return;
    var note = document.createElement("p");
    note.className = "field-error like-error";
    note.setAttribute("role", "alert");
    note.textContent = event.detail.xhr.responseText || "That did not work, please try again.";
    form.appendChild(note);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { revealNativeShare(document); });
  } else {
    revealNativeShare(document);
  }
})();
