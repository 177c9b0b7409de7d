/* The dashboard's three charts, drawn with Chart.js from the figures the page embeds as JSON. */
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var rtl = document.documentElement.dir === "rtl";
  // Amounts in the merchant's currency, its code on the axis: a symbol inside canvas text would not follow
  // the page's bidi rules in Arabic.
  var money = new Intl.NumberFormat(data.locale, { style: "currency", currency: data.currency });
  var number = new Intl.NumberFormat(data.locale, { maximumFractionDigits: money.resolvedOptions().maximumFractionDigits });
  var numbers = function (list) {
    return list.map(function (value) { return Number(value); });
  };
  var options = function () {
    return {
      responsive: true,
      layout: { padding: { left: 28, right: 12, top: 4 } },
      maintainAspectRatio: false,
      animation: false,
      locale: data.locale,
      plugins: {
        legend: { display: false, rtl: rtl },
        tooltip: {
          rtl: rtl,
          callbacks: { label: function (context) { return number.format(context.parsed.y) + " " + data.currency; } }
        }
      },
      scales: {
        x: { reverse: rtl },
        y: {
          beginAtZero: true,
          position: rtl ? "right" : "left",
          title: { display: true, text: data.currency },
          ticks: { callback: function (value) { return number.format(value); } }
        }
      }
    };
  };
  var bars = function (id, series, colors) {
    new Chart(document.getElementById(id), {
      type: "bar",
      data: { labels: series.labels, datasets: [{ label: series.label, data: numbers(series.amounts), backgroundColor: colors }] },
      options: options()
    });
  };
  bars("aging-chart", data.aging, ["#ffc107", "#fd7e14", "#dc3545", "#842029"]);
  bars("weekly-chart", data.weekly, "#198754");
  bars("expected-chart", data.expected, "#0d6efd");
})();
