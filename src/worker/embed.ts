/**
 * GET /embed (docs/api.md v1.2, "Embedding a list"): a small page showing one ranking, for a
 * website to put in an <iframe>. The page itself holds no data: public/embed.js reads the list
 * through the same API as any client, with the read key of a share link from the URL's fragment
 * (which browsers never send to a server, so it reaches no log). Its Content-Security-Policy is
 * its own, built here because `frame-ancestors` is the namespace's config (`embedAncestors`) and
 * a static asset's headers (public/_headers) are the same for every namespace.
 */
import type { Context, Hono } from "hono";
import { RANKS, READ_WINDOWS, type NamespaceDescriptor, type Rank, type ReadWindow } from "../shared/contract";
import { invalid } from "../shared/errors";
import { parseLimit } from "../shared/validate";
import { checkNamespace, type App } from "./door";

/** The most items an embedded list shows: a widget, not a report. */
export const EMBED_MAX_LIMIT = 100;

function choice<T extends string>(c: Context<App>, name: string, allowed: readonly T[], fallback: T): T {
  const value = c.req.query(name) || fallback;
  if (!(allowed as readonly string[]).includes(value)) throw invalid(`invalid_${name}`, `${name} must be one of: ${allowed.join(", ")}.`, { field: name, allowed });
  return value as T;
}

/** The page's policy: everything from this origin, no inline code, framed only by `ancestors`. */
export function embedPolicy(ancestors: readonly string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors.length > 0 ? ancestors.join(" ") : "'none'"}`,
  ].join("; ");
}

/** Every value placed in the page was checked against a pattern of safe characters first. */
function page(ns: string, window: ReadWindow, rank: Rank, limit: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${ns}: ${rank} ${window}</title>
<link rel="stylesheet" href="/embed.css">
<script type="module" src="/embed.js"></script>
</head>
<body data-ns="${ns}" data-window="${window}" data-rank="${rank}" data-limit="${limit}">
<ol id="list"></ol>
<p id="status" role="status">Loading…</p>
</body>
</html>
`;
}

export function addEmbedRoute(app: Hono<App>, descriptorOf: (c: Context<App>, ns: string) => Promise<NamespaceDescriptor>): void {
  app.get("/embed", async (c) => {
    const ns = checkNamespace(c.req.query("ns") ?? "");
    const window = choice<ReadWindow>(c, "window", READ_WINDOWS, "1h");
    const rank = choice<Rank>(c, "rank", RANKS, "top");
    const limit = parseLimit(c.req.query("limit"), 10, EMBED_MAX_LIMIT);
    // The descriptor this isolate holds (or fetches once): a popular embed costs its object nothing per view.
    const { embedAncestors = [] } = await descriptorOf(c, ns);
    return c.html(page(ns, window, rank, limit), 200, {
      "Content-Security-Policy": embedPolicy(embedAncestors),
      "Referrer-Policy": "no-referrer",
      "X-Content-Type-Options": "nosniff",
      // Short, so that a change of embedAncestors reaches browsers within a minute.
      "Cache-Control": "public, max-age=60",
    });
  });
}
