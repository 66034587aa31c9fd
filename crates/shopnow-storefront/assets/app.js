// ShopNow storefront: the only script. Pages work without it; it only stops a second submit of
// a form marked "once" (checkout) while the first is on its way. The server's Idempotency-Key
// makes a second submit harmless anyway.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.classList.contains("once")) return;
  if (form.dataset.sent === "1") { event.preventDefault(); return; }
  form.dataset.sent = "1";
  form.querySelectorAll("button[type=submit]").forEach(function (b) { b.setAttribute("aria-disabled", "true"); });
});
