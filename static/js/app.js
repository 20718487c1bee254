// Small progressive enhancements; every page works without JavaScript.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Period bars of an audit are as wide as their number of periods. Set here, not in a style
// attribute: the Content-Security-Policy (style-src 'self') refuses inline styles.
function applyGrow(root) {
  root.querySelectorAll("[data-grow]").forEach(function (el) {
    el.style.flexGrow = el.getAttribute("data-grow");
  });
}
document.addEventListener("DOMContentLoaded", function () { applyGrow(document); });
document.addEventListener("htmx:load", function (event) { applyGrow(event.target); });
