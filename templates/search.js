// Progressive search over search.json: the page works without it (archive and topic links).
"use strict";
(function () {
  const box = document.getElementById("search");
  if (!box) return;
  const input = document.getElementById("q");
  const results = document.getElementById("results");
  const status = document.getElementById("search-status");
  box.hidden = false;
  for (const el of document.querySelectorAll(".nojs")) el.hidden = true;
  let index = null;

  function run() {
    results.replaceChildren();
    if (!index) return;
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) {
      status.textContent = `${index.length} stories indexed.`;
      return;
    }
    const hits = index.filter((s) => {
      const title = s.t.toLowerCase();
      return words.every((w) => title.includes(w));
    });
    for (const s of hits.slice(0, 100)) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = s.u;
      a.textContent = s.t;
      const meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = `${s.n} outlet${s.n === 1 ? "" : "s"} · ${s.d}`;
      li.append(a, " ", meta);
      results.append(li);
    }
    status.textContent = `${hits.length} ${hits.length === 1 ? "story" : "stories"} found.`;
  }

  const query = new URLSearchParams(window.location.search).get("q");
  if (query) input.value = query;
  input.addEventListener("input", run);
  fetch(box.dataset.index)
    .then((response) => {
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      return response.json();
    })
    .then((data) => {
      index = data;
      run();
    })
    .catch(() => {
      status.textContent = "The search index could not be loaded; browse the archive instead.";
    });
})();
