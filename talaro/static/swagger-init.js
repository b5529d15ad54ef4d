// Starts Swagger UI on /api/docs. A file rather than an inline script, so that the
// content security policy (script-src 'self') needs no exception.
"use strict";

(() => {
  const root = document.getElementById("swagger-ui");
  const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
  let csrfToken = null;

  // "Try it out" rides on the session cookie: changes need its CSRF token in a header.
  async function withCsrf(request) {
    if (SAFE.has(String(request.method || "GET").toUpperCase())) return request;
    if (csrfToken === null) {
      const answer = await fetch(root.dataset.csrfUrl, { credentials: "same-origin" });
      csrfToken = answer.ok ? (await answer.json()).csrf_token : "";
    }
    if (csrfToken) request.headers["X-CSRFToken"] = csrfToken;
    return request;
  }

  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    domNode: root,
    deepLinking: true,
    validatorUrl: null, // no call to the public validator: everything stays on this server
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor: withCsrf,
  });
})();
