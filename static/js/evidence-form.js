// The evidence form asks "What are you adding?": show only the file fields or the link fields
// for the choice made. Without JavaScript both stay visible (the server checks the one chosen).
(function () {
  function update(form) {
    var chosen = form.querySelector('input[name="kind"]:checked');
    form.querySelectorAll("[data-kind]").forEach(function (part) {
      part.hidden = chosen !== null && part.getAttribute("data-kind") !== chosen.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-evidence-form]").forEach(function (form) {
      update(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") { update(form); }
      });
    });
  });
})();
