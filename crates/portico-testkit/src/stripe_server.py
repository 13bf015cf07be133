"""localstripe, a stateful Stripe stand-in (PaymentIntents, webhooks signed the Stripe way),
with a Stripe.js stand-in for Portico's payment page.

localstripe serves its own Stripe.js stand-in at /js.stripe.com/v3/, but its
`confirmCardPayment` only completes 3-D Secure on an intent the server already confirmed. Stripe.js
confirms an intent with the card typed into its element; this script serves, at
/js.stripe.com/portico/v3/, localstripe's script with `confirmCardPayment` doing exactly that: it
posts the element's card to /_config/portico/confirm, which creates the payment method, attaches
it and confirms the intent in localstripe itself (as Stripe's servers do behind Stripe.js), after
checking the intent's client secret. localstripe then sends its signed webhook.

Usage: stripe_server.py --port N
"""

import argparse
import json
import logging
import os
import socket

from aiohttp import web
from localstripe import server
from localstripe.errors import UserError
from localstripe.resources import PaymentIntent, PaymentMethod

SHIM = r"""
;(function () {
  var base = Stripe;
  Stripe = function (key, options) {
    var stripe = base(key, options);
    stripe.confirmCardPayment = function (clientSecret, data) {
      var element = data && data.payment_method && data.payment_method.card;
      var card = element && element.value && element.value.card;
      if (!card) { return Promise.resolve({ error: { message: "Enter the card details." } }); }
      return fetch(LOCALSTRIPE_BASE_API + "/_config/portico/confirm", {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body: JSON.stringify({ client_secret: clientSecret, card: card })
      }).then(function (r) { return r.json(); });
    };
    return stripe;
  };
})();
"""


async def portico_js(request):
    path = os.path.join(os.path.dirname(os.path.realpath(server.__file__)), "localstripe-v3.js")
    with open(path) as f:
        text = f.read()
    return web.Response(text=text + SHIM, content_type="application/javascript")


async def portico_confirm(request):
    try:
        data = json.loads(await request.text())
        secret = data["client_secret"]
        card = data["card"]
        intent_id = secret.split("_secret_")[0]
        intent = PaymentIntent._api_retrieve(intent_id)
        if intent.client_secret != secret:
            raise UserError(401, "Unauthorized")
        method = PaymentMethod(type="card", card={
            "number": str(card["number"]).replace(" ", ""),
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "cvc": str(card["cvc"]),
        })
        intent.payment_method = method.id
        intent = PaymentIntent._api_confirm(intent_id)
        return web.json_response({"paymentIntent": intent._export()})
    except UserError as e:
        return web.json_response({"error": {"message": e.body["error"]["message"]}}, status=e.code)
    except (KeyError, ValueError, TypeError, AssertionError) as e:
        return web.json_response({"error": {"message": "bad request: %s" % e}}, status=400)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    server.app.router.add_get("/js.stripe.com/portico/v3/", portico_js)
    server.app.router.add_post("/_config/portico/confirm", portico_confirm)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    logging.basicConfig(level=logging.INFO)
    print("ready", flush=True)
    web.run_app(server.app, sock=sock, print=None)


if __name__ == "__main__":
    main()
