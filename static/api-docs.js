/* 玉溪网 互动交流: the API reference at /api/docs. Renders /api/openapi.json with the vendored
   Redoc (static/vendor/redoc); both URLs come from the page's data attributes. */
const root = document.getElementById("api-reference");
const { init } = await import(root.dataset.renderer);
root.textContent = "";
init(root.dataset.specUrl, {
  disableTelemetry: true,      // Redoc would otherwise report usage to redocly.com
  hideLoading: false,
  jsonSamplesExpandLevel: 2,
  sortRequiredPropsFirst: true,
}, root);
