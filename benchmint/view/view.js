(function () {
  "use strict";
  // the filters: a row is shown when it matches every filter; the validator filter applies to rejected rows
  var state = { kind: "", doc: "", validator: "" };
  function matches(row) {
    if (state.kind && row.getAttribute("data-kind") !== state.kind) return false;
    if (state.doc && (" " + row.getAttribute("data-docs") + " ").indexOf(" " + state.doc + " ") < 0) return false;
    if (state.validator && row.hasAttribute("data-validator") &&
        row.getAttribute("data-validator") !== state.validator) return false;
    return true;
  }
  function apply() {
    var shown = { question: Object.create(null), rejected: Object.create(null) };
    var total = { question: Object.create(null), rejected: Object.create(null) };
    document.querySelectorAll("[data-row]").forEach(function (row) {
      var ok = matches(row), kind = row.getAttribute("data-row"), id = row.getAttribute("data-qid");
      row.hidden = !ok;
      total[kind][id] = true;
      if (ok) shown[kind][id] = true;
    });
    document.querySelectorAll("[data-group]").forEach(function (group) {
      var visible = group.querySelectorAll("[data-row]:not([hidden])").length;
      group.hidden = visible === 0;
      var count = group.querySelector("[data-count]");
      if (count) count.textContent = String(visible);
    });
    function n(o) { return Object.keys(o).length; }
    document.getElementById("shown").textContent = "Showing " + n(shown.question) + " of " + n(total.question) +
      " questions and " + n(shown.rejected) + " of " + n(total.rejected) + " rejected candidates";
  }
  document.querySelectorAll("button[data-filter]").forEach(function (button) {
    button.addEventListener("click", function () {
      var name = button.getAttribute("data-filter");
      state[name] = button.getAttribute("data-value");
      document.querySelectorAll("button[data-filter]").forEach(function (other) {
        if (other.getAttribute("data-filter") === name) other.setAttribute("aria-pressed", String(other === button));
      });
      apply();
    });
  });
  document.querySelectorAll("select[data-filter]").forEach(function (select) {
    select.addEventListener("change", function () {
      state[select.getAttribute("data-filter")] = select.value;
      apply();
    });
  });
  apply();
})();
