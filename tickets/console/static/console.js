// The console's progressive enhancement. Without JavaScript every form is an ordinary post and a reload.
// - A form that could not be undone easily asks first (data-confirm="…").
// - Forms inside [data-inplace] post in the background and swap in the new <main>: the page keeps its
//   scroll position while a consultant logs an attempt, leaves a note or changes the status.
"use strict";

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (!form.closest("[data-inplace]") || form.method.toLowerCase() !== "post") return;
  event.preventDefault();
  const scroll = window.scrollY;
  let response;
  try {
    response = await fetch(form.action, { method: "POST", body: new FormData(form, event.submitter) });
  } catch {
    form.submit();  // the network failed: let the browser try, and show its own error
    return;
  }
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const main = page.querySelector("main");
  if (!main) {
    window.location.assign(response.url);
    return;
  }
  const samePage = new URL(response.url).pathname === window.location.pathname;
  document.querySelector("main").replaceWith(main);
  document.title = page.title;
  if (response.url !== window.location.href) {
    window.history.pushState(null, "", response.url);
  }
  window.scrollTo(0, samePage ? scroll : 0);
});

// A recording that cannot play says why (no Twilio account, Twilio unreachable) instead of a silent 0:00.
document.addEventListener("error", async (event) => {
  const audio = event.target;
  if (!(audio instanceof HTMLAudioElement)) return;
  const note = audio.parentElement.querySelector(".recording-error");
  if (!note) return;
  let text = "녹음을 재생할 수 없습니다.";
  try {
    const response = await fetch(audio.currentSrc || audio.src);
    if (!response.ok) text = await response.text();
  } catch {
    text = "서버에 연결하지 못해 녹음을 재생할 수 없습니다.";
  }
  note.textContent = text;
  note.hidden = false;
}, true);
