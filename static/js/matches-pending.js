// A just-published submission's page: a job is embedding it (seconds), so its matches are not
// ranked yet. Reload every 3 s until they are shown, at most 10 times per page and browser tab.
(function () {
  var key = "matches-pending:" + location.pathname;
  var tries = Number(sessionStorage.getItem(key) || 0);
  if (tries >= 10) {
    sessionStorage.removeItem(key);
    return;
  }
  sessionStorage.setItem(key, String(tries + 1));
  setTimeout(function () { location.reload(); }, 3000);
})();
