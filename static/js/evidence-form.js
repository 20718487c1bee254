// Forms that ask for a kind first (the evidence form's "What are you adding?", an
// integration's kind): show only the fields of the kind chosen ([data-kind] parts). Without
// JavaScript every part stays visible (the server uses the one chosen).
(function () {
  function update(form) {
    var chosen = form.querySelector('input[name="kind"]:checked');
    form.querySelectorAll("[data-kind]").forEach(function (part) {
      part.hidden = chosen !== null && part.getAttribute("data-kind") !== chosen.value;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-evidence-form], form[data-kind-form]").forEach(function (form) {
      update(form);
      form.addEventListener("change", function (event) {
        if (event.target.name === "kind") { update(form); }
      });
    });
  });
})();
