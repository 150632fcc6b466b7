(function () {
  "use strict";
  var box = document.getElementById("filter-box");
  var input = document.getElementById("filter");
  var count = document.getElementById("filter-count");
  if (!box || !input || !count) { return; }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-model]"));
  box.hidden = false;
  function apply() {
    var query = input.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var hit = row.getAttribute("data-model").indexOf(query) !== -1;
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " models shown";
  }
  input.addEventListener("input", apply);
  apply();
}());
