// The browser's IANA time zone, for users who have not chosen one (README "Time zones").
// When the page says no zone is saved (<body data-browser-zone-url>), it is sent once, and
// from the next page on every time is shown in it; the settings form is filled with it
// while empty. A separate file: the content security policy allows no inline script.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll('[data-browser-zone="fill"]').forEach(function (field) {
    if (!field.value) {
      field.value = zone;
    }
  });
  document.querySelectorAll('[data-browser-zone="show"]').forEach(function (element) {
    element.textContent = zone;
    var note = element.closest("[hidden]");
    if (note) {
      note.hidden = false;
    }
  });
  var url = document.body.getAttribute("data-browser-zone-url");
  var token = document.querySelector('input[name="csrf_token"]');
  if (url && token) {
    var body = new URLSearchParams();
    body.set("time_zone", zone);
    body.set("csrf_token", token.value);
    fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true })
      .catch(function () {});  // a page left early sends it next time
  }
})();
