// The report's own script: draws the plotly figures and runs the jobs table (sort, filter,
// CSV). Everything it needs is in the page: the data is the JSON in #report-data. A live page
// also loads its feed file every few seconds, which hands it the next data (hyperbandLive):
// charts, numbers and table are updated in place, the filter and sorting kept.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);

  function drawCharts(figures) {
    var config = { responsive: true, displaylogo: false, scrollZoom: false };
    var drawn = [];
    Object.keys(figures).forEach(function (key) {
      var fig = figures[key];
      var div = document.getElementById("chart-" + key);
      if (!fig || !div) return;
      if (typeof Plotly === "undefined") {
        div.textContent = "plotly.js did not load: the charts cannot be drawn.";
        return;
      }
      var note = div.querySelector(":scope > .note");
      if (note) note.remove();
      div.style.height = fig.layout.height + "px";
      div.closest("section").hidden = false;
      // react: a chart already drawn is updated, not redrawn from scratch.
      drawn.push(Plotly.react(div, fig.data, fig.layout, config));
    });
    return Promise.all(drawn);
  }

  // ------------------------------------------------------------------ the jobs table
  var table = data.table;
  var columns = table.columns;
  var tbody = document.querySelector("#jobs tbody");
  var filterBox = document.getElementById("jobs-filter");
  var statusBox = document.getElementById("jobs-status");
  var countOut = document.getElementById("jobs-count");
  var rows = [];

  function cell(col, value, row) {
    var td = document.createElement("td");
    td.className = "col-" + col.key + (col.type === "num" ? " num" : "");
    if (value === null || value === undefined || value === "") {
      td.textContent = col.key === "error" || col.key === "stop" ? "" : "–";
      return td;
    }
    if (col.key === "status") {
      var badge = document.createElement("span");
      badge.className = "badge";
      badge.style.background = table.colours[value] || "#888";
      badge.textContent = value;
      // A stopped job's badge says why on hover, as its "why stopped" cell does.
      var why = stopColumn() >= 0 ? row[stopColumn()] : null;
      if (why) badge.title = why;
      td.appendChild(badge);
    } else if (col.key === "error") {
      var details = document.createElement("details");
      var summary = document.createElement("summary");
      summary.textContent = row[table.reason];
      var pre = document.createElement("pre");
      pre.textContent = value;
      details.appendChild(summary);
      details.appendChild(pre);
      td.appendChild(details);
    } else if (col.key === "worker") {
      td.textContent = value;
      td.title = row[table.workerLabel] || "";
    } else if (col.type === "num" && typeof value === "number") {
      td.textContent = col.digits ? Number(value.toPrecision(col.digits)).toString() : String(value);
    } else {
      td.textContent = String(value);
    }
    return td;
  }

  function stopColumn() {
    for (var k = 0; k < columns.length; k += 1) if (columns[k].key === "stop") return k;
    return -1;
  }

  function build() {
    var fragment = document.createDocumentFragment();
    rows = [];
    tbody.textContent = "";
    table.rows.forEach(function (row, index) {
      var tr = document.createElement("tr");
      tr.dataset.status = row[table.statusIndex];
      columns.forEach(function (col, k) { tr.appendChild(cell(col, row[k], row)); });
      var shown = Array.prototype.map.call(tr.children, function (td) { return td.textContent; });
      shown.push(row[table.workerLabel] || "");
      rows.push({ tr: tr, row: row, words: words(shown.join(" ")), index: index });
      fragment.appendChild(tr);
    });
    tbody.appendChild(fragment);
  }

  // A row's words, as shown (rounded). A filter word must begin one of them, and a number
  // must be one of them: "27" finds budget 27, not 0.0275 nor job 270.
  function words(text) {
    return text.toLowerCase().split(/[\s,;:()\[\]{}"'=<>]+/).filter(Boolean);
  }

  function missing(v) { return v === null || v === undefined || v === ""; }

  var sortKey = -1, sortDir = 1;
  function sortBy(k) {
    sortDir = sortKey === k ? -sortDir : 1;
    sortKey = k;
    sortRows();
  }

  function sortRows() {
    var k = sortKey;
    if (k < 0) return;
    var numeric = columns[k].type === "num";
    rows.sort(function (a, b) {
      var x = a.row[k], y = b.row[k], xm = missing(x), ym = missing(y);
      // Missing values last in both directions; ties keep the original order.
      if (xm || ym) return (xm - ym) || a.index - b.index;
      var c = numeric ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return sortDir * c || a.index - b.index;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (r) { fragment.appendChild(r.tr); });
    tbody.appendChild(fragment);
    document.querySelectorAll("#jobs thead th").forEach(function (th, j) {
      th.setAttribute("aria-sort", j === k ? (sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }

  function applyFilter() {
    var wanted = filterBox.value.toLowerCase().split(/\s+/).filter(Boolean);
    var status = statusBox.value;
    var shown = 0;
    rows.forEach(function (r) {
      var ok = (!status || r.row[table.statusIndex] === status) &&
        wanted.every(function (w) {
          var number = /^[-+]?[\d.]+(e[-+]?\d+)?$/.test(w);
          return r.words.some(function (x) { return number ? x === w : x.lastIndexOf(w, 0) === 0; });
        });
      r.tr.hidden = !ok;
      if (ok) shown += 1;
    });
    countOut.textContent = shown + " of " + rows.length + " jobs";
  }

  // ------------------------------------------------------------------ CSV export
  function csvField(v) {
    if (v === null || v === undefined) return "";
    var text = String(v);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // The rows shown (filtered, in their current order), with exact values (not rounded).
  function csv() {
    var lines = [columns.map(function (col) { return csvField(col.label); }).join(",")];
    rows.forEach(function (r) {
      if (r.tr.hidden) return;
      lines.push(columns.map(function (col, k) { return csvField(r.row[k]); }).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function download() {
    var blob = new Blob([csv()], { type: "text/csv;charset=utf-8" });
    var link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = table.csvName;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(link.href); }, 0);
  }

  function columnsHeader() {
    var tr = document.querySelector("#jobs thead tr");
    tr.textContent = "";
    columns.forEach(function (col, k) {
      var th = document.createElement("th");
      th.setAttribute("aria-sort", "none");
      th.className = "col-" + col.key;
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = col.label;
      button.title = "sort by " + col.label;
      button.addEventListener("click", function () { sortBy(k); });
      th.appendChild(button);
      tr.appendChild(th);
    });
  }

  // New statuses join the menu; the one chosen stays chosen.
  function statusOptions() {
    table.statuses.forEach(function (s) {
      if (statusBox.querySelector('option[value="' + CSS.escape(s) + '"]')) return;
      var option = document.createElement("option");
      option.value = s;
      option.textContent = s;
      statusBox.appendChild(option);
    });
  }

  // The next data (live mode): the table keeps its sorting (by column key) and filter.
  function setTable(next) {
    var key = sortKey >= 0 ? columns[sortKey].key : null;
    var changed = JSON.stringify(next.columns) !== JSON.stringify(columns);
    table = next;
    columns = next.columns;
    if (changed) columnsHeader();
    statusOptions();
    sortKey = -1;
    columns.forEach(function (col, k) { if (col.key === key) sortKey = k; });
    build();
    sortRows();
    applyFilter();
  }

  columnsHeader();
  statusOptions();
  build();
  applyFilter();
  filterBox.addEventListener("input", applyFilter);
  statusBox.addEventListener("change", applyFilter);
  document.getElementById("jobs-csv").addEventListener("click", download);

  // ------------------------------------------------------------------ live updates
  function update(next) {
    document.querySelector(".stats").innerHTML = next.stats;  // escaped by the writer
    document.querySelector(".best-config").innerHTML = next.best;
    var state = document.querySelector("h1 .state");
    state.className = "state " + next.state[0];
    state.textContent = next.state[1];
    setTable(next.table);
    return drawCharts(next.figures);
  }

  function follow(live) {
    var timer = null;
    var updates = 0;
    window.hyperbandLive = function (next) {
      if (next.final) { clearTimeout(timer); timer = "done"; }
      update(next).then(function () {
        updates += 1;
        document.body.dataset.updates = String(updates);
        if (next.final) document.body.dataset.final = "1";
      });
    };
    function poll() {
      var script = document.createElement("script");
      // A new URL each time: the browser must not answer from its cache.
      script.src = encodeURIComponent(live.feed) + "?t=" + Date.now();
      script.onload = script.onerror = function () {
        script.remove();
        if (timer !== "done") timer = setTimeout(poll, live.interval * 1000);
      };
      document.head.appendChild(script);
    }
    timer = setTimeout(poll, live.interval * 1000);
  }

  drawCharts(data.figures).then(
    function () {
      document.body.dataset.ready = "1";
      if (data.live) follow(data.live);
    },
    function (err) { document.body.dataset.ready = "error"; throw err; }
  );
})();
