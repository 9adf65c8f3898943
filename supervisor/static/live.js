// Poll the live fragments and swap them in; a section being used (a select open, a button focused) waits.
// A file, not an inline <script>, so the Content-Security-Policy can forbid inline scripts; the page gives
// the URL and the interval in data- attributes of this script's element.
(function () {
  var me = document.getElementById("live-script");
  var url = me.dataset.url;
  var every = parseInt(me.dataset.every, 10);
  function refresh() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
      .then(function (data) {
        document.querySelectorAll("[data-live]").forEach(function (section) {
          var html = data.fragments[section.dataset.live];
          if (html !== undefined && !section.contains(document.activeElement)) { section.innerHTML = html; }
        });
        document.getElementById("refreshed-at").textContent = new Date().toLocaleTimeString("ko-KR", {hour12: false, timeZone: "Asia/Seoul"});
      })
      .catch(function () { document.getElementById("refreshed-at").textContent = "연결 끊김, 다시 시도 중"; })
      .finally(function () { setTimeout(refresh, every); });
  }
  setTimeout(refresh, every);
})();
