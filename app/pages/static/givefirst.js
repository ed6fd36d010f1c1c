// The web page's own script: Copy buttons (the clipboard API, or the selection where it is
// refused), errors of htmx requests shown in the alert region, focus kept after a swap.
"use strict";

async function copyText(source) {
  try {
    await navigator.clipboard.writeText(source.value);
    return true;
  } catch (error) {
    source.focus();
    source.select();
    return document.execCommand("copy");
  }
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.getElementById(button.dataset.copy);
  const status = document.getElementById(button.dataset.copy + "-status");
  const copied = await copyText(source);
  document.documentElement.dataset.copied = copied ? source.value : "";
  if (status) status.textContent = copied ? "Copied." : "Not copied: select the text and copy it.";
});

function showError(message) {
  const flash = document.getElementById("flash");
  flash.textContent = message;
}

document.addEventListener("htmx:responseError", (event) => {
  const xhr = event.detail.xhr;
  let message = xhr.responseText;
  try {
    message = JSON.parse(xhr.responseText).message || message;
  } catch (error) {
    // not JSON: the text as it is
  }
  showError(message || "The request failed (" + xhr.status + ").");
});

document.addEventListener("htmx:sendError", () => {
  showError("The server could not be reached: try again.");
});

document.addEventListener("htmx:afterSwap", (event) => {
  showError("");
  const card = document.getElementById(event.detail.target.id) || event.detail.elt;
  const focus = card && card.querySelector ? card.querySelector("[data-focus]") : null;
  if (focus) focus.focus();
});
