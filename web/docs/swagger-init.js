// Starts Swagger UI on the service's own OpenAPI document. It lives in a
// file, not inline, so the page's Content-Security-Policy can forbid inline
// scripts; validatorUrl is off so the page calls nothing outside this host.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    displayRequestDuration: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
