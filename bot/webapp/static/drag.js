// Dragging cards between columns with pointer events: mouse, pen and touch alike. (The HTML5 drag
// and drop API does nothing on touch screens.) A mouse drags once it moves a few pixels; a finger
// after a short hold, so a swipe still scrolls the board and its columns.

const HOLD_MS = 280;
const MOUSE_SLOP = 5;
const TOUCH_SLOP = 10;
const EDGE = 56;
const CARRIED = 24;  // px: a card dropped this near where it was lifted was put back, not moved
const MAX_SPEED = 18;

/**
 * enableDrag(board, { canDrag(card) -> true | string, canDrop(card, column) -> bool,
 *                      onRefused(card, why), onStart(card), onOver(column), onDrop(card, from, to, ghostRect) })
 * `to` may be `from`: a card carried away and dropped back in its own column (the board says why
 * nothing happens); one dropped about where it was lifted just goes home.
 * Cards are `.card` elements inside `.column` elements inside `board`.
 */
export function enableDrag(board, handlers) {
  let press = null;
  let drag = null;
  let swallowClick = false;

  board.addEventListener("pointerdown", (event) => {
    const card = event.target.closest(".card");
    if (!card || drag || press || (event.pointerType === "mouse" && event.button !== 0)) return;
    press = { id: event.pointerId, card, x: event.clientX, y: event.clientY, touch: event.pointerType === "touch" };
    if (press.touch) {
      card.classList.add("pressing");
      press.timer = setTimeout(() => begin(press.x, press.y), HOLD_MS);
    }
  });

  window.addEventListener("pointermove", (event) => {
    if (drag && event.pointerId === drag.id) {
      event.preventDefault();
      drag.x = event.clientX;
      drag.y = event.clientY;
      follow();
      return;
    }
    if (!press || event.pointerId !== press.id) return;
    const moved = Math.hypot(event.clientX - press.x, event.clientY - press.y);
    if (press.touch && moved > TOUCH_SLOP) release();
    else if (!press.touch && moved > MOUSE_SLOP) begin(event.clientX, event.clientY);
  }, { passive: false });

  // Once a finger drags a card, the page must not scroll under it.
  document.addEventListener("touchmove", (event) => { if (drag) event.preventDefault(); }, { passive: false });
  board.addEventListener("contextmenu", (event) => { if (event.target.closest(".card")) event.preventDefault(); });
  window.addEventListener("pointerup", (event) => finish(event, false));
  window.addEventListener("pointercancel", (event) => finish(event, true));
  window.addEventListener("blur", () => { if (drag) drop(true); release(); });
  document.addEventListener("keydown", (event) => { if (drag && event.key === "Escape") drop(true); });
  board.addEventListener("click", (event) => {
    if (swallowClick) { event.stopPropagation(); event.preventDefault(); swallowClick = false; }
  }, true);

  function release() {
    if (!press) return;
    clearTimeout(press.timer);
    press.card.classList.remove("pressing");
    press = null;
  }

  function begin(x, y) {
    const { card, id } = press;
    release();
    const allowed = handlers.canDrag(card);
    if (allowed !== true) {
      handlers.onRefused(card, allowed);
      return;
    }
    const rect = card.getBoundingClientRect();
    const ghost = card.cloneNode(true);
    ghost.classList.add("ghost");
    ghost.removeAttribute("id");
    ghost.setAttribute("aria-hidden", "true");
    ghost.style.width = `${rect.width}px`;
    ghost.style.height = `${rect.height}px`;
    document.body.appendChild(ghost);
    drag = {
      id, card, ghost, x, y, x0: x, y0: y,
      dx: x - rect.left,
      dy: y - rect.top,
      from: card.closest(".column"),
      over: null,
      frame: 0,
    };
    try { board.setPointerCapture(id); } catch { /* a finger that already left */ }
    card.classList.add("placeholder");
    board.classList.add("dragging");
    document.body.classList.add("dragging");
    handlers.onStart(card);
    follow();
    drag.frame = requestAnimationFrame(autoScroll);
  }

  function follow() {
    const { ghost, x, y, dx, dy } = drag;
    ghost.style.transform = `translate3d(${x - dx}px, ${y - dy}px, 0) rotate(${document.dir === "rtl" ? -2 : 2}deg) scale(1.03)`;
    const column = document.elementFromPoint(x, y)?.closest(".column") || null;
    const target = column && handlers.canDrop(drag.card, column) ? column : null;
    if (target !== drag.over) {
      drag.over?.classList.remove("drop-target");
      if (target !== drag.from) target?.classList.add("drop-target");
      drag.over = target;
      if (target && target !== drag.from) handlers.onOver(target);
    }
  }

  function autoScroll() {
    if (!drag) return;
    const { x, y } = drag;
    const box = board.getBoundingClientRect();
    const horizontal = speed(x - box.left) * -1 + speed(box.right - x);
    if (horizontal) board.scrollLeft += horizontal;
    const list = document.elementFromPoint(x, y)?.closest(".column")?.querySelector(".cards");
    if (list) {
      const area = list.getBoundingClientRect();
      const vertical = speed(y - area.top) * -1 + speed(area.bottom - y);
      if (vertical) list.scrollTop += vertical;
    }
    if (horizontal) follow();
    drag.frame = requestAnimationFrame(autoScroll);
  }

  function speed(distance) {
    return distance < EDGE ? Math.ceil(((EDGE - Math.max(distance, 0)) / EDGE) * MAX_SPEED) : 0;
  }

  function finish(event, cancelled) {
    if (press && event.pointerId === press.id) release();
    if (!drag || event.pointerId !== drag.id) return;
    drop(cancelled);
  }

  function drop(cancelled) {
    const { card, ghost, from, over, frame, id, x, y, x0, y0 } = drag;
    cancelAnimationFrame(frame);
    try { board.releasePointerCapture(id); } catch { /* already released */ }
    drag = null;
    swallowClick = true;
    setTimeout(() => { swallowClick = false; }, 0);
    over?.classList.remove("drop-target");
    board.classList.remove("dragging");
    document.body.classList.remove("dragging");
    const ghostRect = ghost.getBoundingClientRect();
    // Put back where it was picked up, it was not dropped: it flies home without a word. Carried
    // and dropped in its own column, the drop is the board's to explain.
    const carried = Math.hypot(x - x0, y - y0) > CARRIED;
    if (!cancelled && over && (over !== from || carried)) {
      ghost.remove();
      card.classList.remove("placeholder");
      handlers.onDrop(card, from, over, ghostRect);
      return;
    }
    // Back where it came from: the ghost flies home, then the card shows again.
    const home = card.getBoundingClientRect();
    ghost.classList.add("returning");
    ghost.style.transform = `translate3d(${home.left}px, ${home.top}px, 0)`;
    const done = () => { ghost.remove(); card.classList.remove("placeholder"); };
    ghost.addEventListener("transitionend", done, { once: true });
    setTimeout(done, 350);
  }
}

/** Move `element` in the DOM with `change()`, animating it from where it was (or from `fromRect`). */
export function flip(element, change, fromRect = null) {
  const before = fromRect || element.getBoundingClientRect();
  change();
  const after = element.getBoundingClientRect();
  const dx = before.left - after.left;
  const dy = before.top - after.top;
  if (!dx && !dy) return;
  element.animate(
    [{ transform: `translate(${dx}px, ${dy}px)` }, { transform: "translate(0, 0)" }],
    { duration: 260, easing: "cubic-bezier(.2,.8,.2,1)" },
  );
}
