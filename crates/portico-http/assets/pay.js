// I5: the payment page. Stripe.js (loaded before this script) collects the card in its own
// element and confirms the payment intent Portico opened for the amount due; the page then
// returns to the invoice, which shows the payment once Stripe's signed webhook confirms it.
// Nothing here decides an amount: the intent carries it.
(function () {
  "use strict";
  var form = document.getElementById("pay-form");
  if (!form) { return; }
  var errorBox = document.getElementById("pay-error");
  var statusBox = document.getElementById("pay-status");
  var cardButton = document.getElementById("pay-card");
  var bankButton = document.getElementById("pay-bank");
  var nameField = document.getElementById("pay-name");
  var secret = form.getAttribute("data-secret");
  var back = form.getAttribute("data-return");
  function fail(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
    statusBox.textContent = "";
    cardButton.disabled = false;
    if (bankButton) { bankButton.disabled = false; }
  }
  function busy(message) {
    errorBox.hidden = true;
    statusBox.textContent = message;
    cardButton.disabled = true;
    if (bankButton) { bankButton.disabled = true; }
  }
  function done() {
    var sep = back.indexOf("?") === -1 ? "?" : "&";
    window.location.assign(back + sep + "payment=sent#pay");
  }
  if (typeof window.Stripe !== "function") {
    fail("The payment form could not load. Please try again later, or contact the business.");
    cardButton.disabled = true;
    return;
  }
  var options = {};
  var account = form.getAttribute("data-account");
  if (account) { options.stripeAccount = account; }
  var stripe = window.Stripe(form.getAttribute("data-key"), options);
  var card = stripe.elements().create("card");
  card.mount("#card-element");
  cardButton.disabled = false;
  if (bankButton) { bankButton.disabled = false; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    busy("Paying…");
    stripe.confirmCardPayment(secret, {
      payment_method: { card: card, billing_details: { name: nameField.value } }
    }).then(function (result) {
      if (result.error) {
        fail(result.error.message || "The payment did not go through. Nothing was taken.");
      } else {
        done();
      }
    }, function () {
      fail("The payment service did not answer. Please try again.");
    });
  });
  if (bankButton) {
    bankButton.addEventListener("click", function () {
      if (!nameField.value) { nameField.reportValidity(); return; }
      busy("Connecting to your bank…");
      stripe.collectBankAccountForPayment({
        clientSecret: secret,
        params: {
          payment_method_type: "us_bank_account",
          payment_method_data: { billing_details: { name: nameField.value } }
        }
      }).then(function (collected) {
        if (collected.error) { throw collected.error; }
        return stripe.confirmUsBankAccountPayment(secret);
      }).then(function (result) {
        if (result.error) { throw result.error; }
        done();
      }).catch(function (error) {
        fail((error && error.message) || "The bank payment did not start. Nothing was taken.");
      });
    });
  }
})();
