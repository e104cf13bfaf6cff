"use strict";
// The report's only script: evidence open/close for all checks, a "problems only" filter,
// and opening the evidence of the check a link points at (report.html#check-ID).
(function () {
  var byId = function (id) { return document.getElementById(id); };
  var all = function () { return Array.prototype.slice.call(document.querySelectorAll("details.evidence")); };
  var setAll = function (open) { all().forEach(function (d) { d.open = open; }); };
  var only = byId("only-problems");
  if (only) {
    only.addEventListener("change", function () { document.body.classList.toggle("only-problems", only.checked); });
  }
  var expand = byId("expand-all");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  var collapse = byId("collapse-all");
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }
  var reveal = function () {
    var id;
    try { id = decodeURIComponent(location.hash.slice(1)); } catch (e) { return; }
    var row = id ? byId(id) : null;
    var d = row ? row.querySelector("details.evidence") : null;
    if (d) { d.open = true; row.scrollIntoView(); }
  };
  window.addEventListener("hashchange", reveal);
  reveal();
})();
