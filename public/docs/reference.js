// GET /docs: renders GET /openapi.json with the Scalar bundle loaded before this file. A file of
// its own rather than an inline script, so the page's CSP needs no 'unsafe-inline' for scripts.
// Every option that would reach another origin is off: the page works offline, and a reader's
// visit is reported to no one.
globalThis.Scalar.createApiReference("#api-reference-root", {
  url: "/openapi.json",
  // Fonts would come from Scalar's font host; the system's fonts are used instead.
  withDefaultFonts: false,
  telemetry: false,
  // The AI agent and MCP features talk to Scalar's services.
  agent: { disabled: true },
  mcp: { disabled: true },
  // "Test request" sends to this origin (servers: "/"), never through Scalar's proxy.
  proxyUrl: "",
  hideDarkModeToggle: false,
  documentDownloadType: "json",
  // Every group open, so the sidebar lists every operation at once: there are few of them.
  defaultOpenAllTags: true,
});
