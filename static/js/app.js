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

// "Adopt 12 controls": a button with data-count-checked="name" counts the ticked checkboxes
// of that name in its form, so the number it shows is what the click will adopt.
function countChecked(form) {
  form.querySelectorAll("[data-count-checked]").forEach(function (button) {
    var name = button.getAttribute("data-count-checked");
    var n = form.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked').length;
    var target = button.querySelector("[data-count]");
    if (target) { target.textContent = n; }
    var plural = button.querySelector("[data-plural]");
    if (plural) { plural.textContent = n === 1 ? "" : "s"; }
    button.disabled = n === 0;
  });
}
document.addEventListener("change", function (event) {
  if (event.target.form) { countChecked(event.target.form); }
});

// The readiness dashboard's Type 2 coverage: one row per control; a control's sub-periods and
// exceptions are fetched (an HTML fragment) the first time its row is opened, so the page
// stays small with hundreds of controls. "toggle" does not bubble: listen in the capture phase.
document.addEventListener("toggle", function (event) {
  var details = event.target;
  if (!details.open || !details.getAttribute || !details.getAttribute("data-control")) { return; }
  var list = details.closest("[data-coverage-url]");
  if (!list || details.getAttribute("data-loaded")) { return; }
  details.setAttribute("data-loaded", "1");
  // The container is made here, not sent with each of hundreds of rows.
  var target = details.querySelector(".coverage-detail");
  if (!target) {
    target = document.createElement("div");
    target.className = "coverage-detail muted small";
    details.appendChild(target);
  }
  target.textContent = "Loading…";
  var url = list.getAttribute("data-coverage-url").replace(/0\/$/, details.getAttribute("data-control") + "/");
  fetch(url, { credentials: "same-origin" })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    })
    .then(function (html) {
      target.innerHTML = html;
      target.classList.remove("muted", "small");
      applyGrow(target);
    })
    .catch(function () {
      target.textContent = "The periods could not be loaded; close and open the row to try again.";
      details.removeAttribute("data-loaded");
    });
}, true);
