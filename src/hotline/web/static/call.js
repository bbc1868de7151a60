// The call page: a click on a word plays its leg from that word.
"use strict";
document.addEventListener("click", (e) => {
  const word = e.target.closest("[data-start]");
  if (!word) return;
  const audio = document.querySelector(`audio[data-leg="${word.dataset.leg}"]`);
  if (!audio) return;
  audio.currentTime = Number(word.dataset.start) / 1000;
  audio.play();
});
