/**
 * In a browser, the last moment to send queued events is when the page is hidden
 * (`visibilitychange` to "hidden": the user switched away, maybe for good) or left (`pagehide`).
 * Both are watched, because mobile browsers may skip one of them. Outside a browser (Workers,
 * Node) there is no document, and nothing is watched.
 */

/** The little of the DOM this needs, so the client compiles without DOM types. */
interface PageEvents {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}
interface PageDocument extends PageEvents {
  visibilityState?: string;
}

/** Calls `onHide` whenever the page is hidden or left; returns a function that stops watching. */
export function watchPage(onHide: () => void): () => void {
  const scope = globalThis as { document?: PageDocument; window?: PageEvents };
  const document = scope.document;
  const window = scope.window;
  if (document === undefined || typeof document.addEventListener !== "function") return () => {};
  const onVisibility = () => {
    if (document.visibilityState === "hidden") onHide();
  };
  document.addEventListener("visibilitychange", onVisibility);
  window?.addEventListener("pagehide", onHide);
  return () => {
    document.removeEventListener("visibilitychange", onVisibility);
    window?.removeEventListener("pagehide", onHide);
  };
}
