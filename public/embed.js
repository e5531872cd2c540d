// The embeddable list (`GET /embed?ns=&window=&rank=&limit=`, docs/api.md): one ranking, read
// through the public API like any client, asked again every refresh period (the answer's
// Cache-Control max-age). A share link's read key comes in the fragment (`#key=tk_...`), which
// browsers never send to a server; inside a frame it stays in the frame's own address.
import { ApiError, nsPath, read, takeSharedKey } from "./api.js";

const { ns, window, rank, limit } = document.body.dataset;
const DEFAULT_PERIOD = 10;
takeSharedKey();

const list = document.getElementById("list");
const status = document.getElementById("status");

function show(items) {
  list.replaceChildren(
    ...items.map((entry) => {
      const row = document.createElement("li");
      const name = document.createElement("span");
      name.className = "item";
      name.textContent = entry.item; // text, never markup: items are whatever clients sent
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = Number(entry.score.toFixed(2)).toLocaleString();
      row.append(name, score);
      return row;
    }),
  );
  status.textContent = items.length === 0 ? "Nothing yet." : "";
}

async function update() {
  let period = DEFAULT_PERIOD;
  try {
    const query = new URLSearchParams({ window, rank, limit });
    const { body, meta } = await read(`${nsPath(ns, "trending")}?${query}`);
    show(body.items);
    period = meta.maxAge || DEFAULT_PERIOD;
  } catch (error) {
    status.textContent = error instanceof ApiError && error.status === 404 ? "No events yet." : "The list cannot be read now.";
  }
  setTimeout(update, period * 1000);
}

update();
