// Demand forecast vs actual on the product page (suppliers/partials/product_forecast.html).
// The figures come from a <script type="application/json"> block (Django's json_script): data, not
// code, so the strict CSP holds. Loaded after chart.umd.min.js, only on pages with the panel.
(function () {
  "use strict";

  function cssColour(name, fallback) {
    var value = window.getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return value || fallback;
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || typeof window.Chart === "undefined" || canvas.dataset.chartDrawn) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var pastDays = data.past_days;
    var actualColour = cssColour("--bs-primary", "#0d6efd");
    var forecastColour = cssColour("--bs-warning", "#ffc107");
    canvas.dataset.chartDrawn = "true";
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: data.series.actual,
            data: data.actual,
            borderColor: actualColour,
            backgroundColor: actualColour,
            pointRadius: 2,
            borderWidth: 2,
            spanGaps: false
          },
          {
            label: data.series.forecast,
            data: data.forecast,
            borderColor: forecastColour,
            backgroundColor: forecastColour,
            pointRadius: 0,
            borderWidth: 2,
            // Dashed from today on: what lies ahead is forecast only.
            segment: {
              borderDash: function (context) {
                return context.p1DataIndex >= pastDays ? [6, 4] : undefined;
              }
            }
          }
        ]
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { maxTicksLimit: 8, autoSkip: true } },
          y: { beginAtZero: true, title: { display: true, text: data.y_label } }
        },
        plugins: { legend: { position: "bottom" } }
      }
    });
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart-source]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
