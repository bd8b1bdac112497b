// Ticks running workspaces' timers and costs in the browser, once the server has sent each
// session's start, its locked hourly rate (millionths) and the currency's minor digits.
// Same rule as ezscale/services/kasm_usage.py: started 15 minutes, cost rounded half-up once.
(function () {
  if (window.__kasmTicker) return;
  window.__kasmTicker = true;
  var offset = 0;
  var lastServerNow = null;

  function pad(n) { return String(n).padStart(2, "0"); }

  function money(minor, digits, symbol) {
    var scale = 10n ** BigInt(digits);
    var whole = (minor / scale).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var frac = digits ? "." + (minor % scale).toString().padStart(digits, "0") : "";
    return symbol + whole + frac;
  }

  function costMinor(seconds, rateMicro, digits) {
    var quarters = BigInt(Math.ceil(seconds / 900));
    var n = quarters * BigInt(rateMicro) * 10n ** BigInt(digits);
    var d = 4000000n;
    return (2n * n + d) / (2n * d);
  }

  function tick() {
    var clock = document.getElementById("kasm-clock");
    if (clock && clock.dataset.serverNow && clock.dataset.serverNow !== lastServerNow) {
      lastServerNow = clock.dataset.serverNow;
      offset = Number(lastServerNow) - Date.now();
    }
    var now = Date.now() + offset;
    document.querySelectorAll("[data-kasm-start]").forEach(function (el) {
      var start = Number(el.dataset.kasmStart);
      if (!start) return;
      var seconds = Math.max(0, Math.floor((now - start) / 1000));
      var text;
      if (el.dataset.kasmField === "cost") {
        text = money(costMinor(seconds, el.dataset.kasmRate, Number(el.dataset.kasmDigits)),
          Number(el.dataset.kasmDigits), el.dataset.kasmSymbol || "");
      } else {
        var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
        text = "Running for " + h + "h " + pad(m) + "m " + pad(s) + "s";
      }
      if (el.textContent !== text) el.textContent = text;
    });
  }

  // Exposed for tests that hold this copy of the rule to the Python one.
  window.kasmTicker = { costMinor: costMinor, money: money };
  setInterval(tick, 250);
  tick();
})();
