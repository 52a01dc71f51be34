/* Starts Swagger UI on /docs (kb.api.docs): a file, not an inline script, so the page runs
 * under a Content-Security-Policy without 'unsafe-inline'. The OpenAPI document's address is
 * relative (data-openapi="openapi.json"), so the page works under a proxy's sub-path too.
 */
"use strict";
(function () {
  const script = document.currentScript;
  const spec = new URL((script && script.dataset.openapi) || "openapi.json", document.baseURI);
  window.ui = SwaggerUIBundle({
    url: spec.href,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
