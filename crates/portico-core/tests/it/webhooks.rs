//! I4, I5: webhook signatures both ways, and the addresses Portico refuses to call.

use std::net::IpAddr;

use portico_core::policy::webhooks::{
    AddressRefused, BadSecret, STRIPE_TOLERANCE_SECONDS, SignatureRefused, public_address,
    secret_key, secret_of, sign_standard, verify_stripe,
};
use proptest::prelude::*;

const STRIPE_SECRET: &str = "whsec_test_secret";
const STRIPE_BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
/// HMAC-SHA256 of `1700000000.` and the body with the secret, computed independently
/// (Python's `hmac`).
const STRIPE_V1: &str = "22d8dc182f5c588077683bd378368e29765bfe5df2560112b4f28fef120f0e31";

fn stripe_header(t: i64, v1: &str) -> String {
    format!("t={t},v1={v1}")
}

#[test]
fn i5_a_stripe_signature_is_checked_over_the_raw_body_within_five_minutes() {
    let t = 1_700_000_000;
    let check = |header: &str, body: &[u8], now: i64| {
        verify_stripe(header, body, STRIPE_SECRET, now, STRIPE_TOLERANCE_SECONDS)
    };
    assert_eq!(
        check(&stripe_header(t, STRIPE_V1), STRIPE_BODY, t + 10),
        Ok(())
    );
    // Several v1 while a secret rolls: one matching is enough; other schemes are ignored.
    let rolled = format!("t={t},v0=abc,v1={},v1={STRIPE_V1}", "00".repeat(32));
    assert_eq!(check(&rolled, STRIPE_BODY, t), Ok(()));
    let mut altered = STRIPE_BODY.to_vec();
    altered[10] ^= 1;
    for (header, body, now, refused) in [
        (
            stripe_header(t, STRIPE_V1),
            &altered[..],
            t,
            SignatureRefused::Mismatch,
        ),
        (
            stripe_header(t, &"ab".repeat(32)),
            STRIPE_BODY,
            t,
            SignatureRefused::Mismatch,
        ),
        (
            stripe_header(t, STRIPE_V1),
            STRIPE_BODY,
            t + 301,
            SignatureRefused::OutsideTolerance,
        ),
        (
            stripe_header(t, STRIPE_V1),
            STRIPE_BODY,
            t - 301,
            SignatureRefused::OutsideTolerance,
        ),
        (
            format!("v1={STRIPE_V1}"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (
            format!("t={t}"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (
            format!("t=soon,v1={STRIPE_V1}"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (
            format!("t={t},v1=zz"),
            STRIPE_BODY,
            t,
            SignatureRefused::Malformed,
        ),
        (String::new(), STRIPE_BODY, t, SignatureRefused::Malformed),
    ] {
        assert_eq!(check(&header, body, now), Err(refused), "{header}");
    }
    assert_eq!(
        verify_stripe(
            &stripe_header(t, STRIPE_V1),
            STRIPE_BODY,
            "whsec_other",
            t,
            300
        ),
        Err(SignatureRefused::Mismatch)
    );
}

#[test]
fn i4_host_webhooks_are_signed_the_standard_webhooks_way() {
    // The Standard Webhooks reference vector (checked against its Python library).
    let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    assert_eq!(
        sign_standard(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    assert_eq!(secret_key(&secret_of(&[7; 32])), Ok(vec![7; 32]));
    for bad in [
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_!!!",
        "whsec_AAAA",
        "",
    ] {
        assert_eq!(secret_key(bad), Err(BadSecret), "{bad}");
    }
}

#[test]
fn i4_endpoints_on_loopback_private_link_local_or_metadata_addresses_are_refused() {
    let refused = |raw: &str| public_address(raw.parse::<IpAddr>().unwrap()).err();
    for (raw, why) in [
        ("127.0.0.1", AddressRefused::Loopback),
        ("127.8.9.10", AddressRefused::Loopback),
        ("::1", AddressRefused::Loopback),
        ("::ffff:127.0.0.1", AddressRefused::Loopback),
        ("10.0.0.1", AddressRefused::Private),
        ("172.16.5.4", AddressRefused::Private),
        ("192.168.1.1", AddressRefused::Private),
        ("100.64.0.1", AddressRefused::Private),
        ("::ffff:10.0.0.1", AddressRefused::Private),
        ("fd00:ec2::254", AddressRefused::Private),
        ("169.254.169.254", AddressRefused::LinkLocal),
        ("fe80::1", AddressRefused::LinkLocal),
        ("0.0.0.0", AddressRefused::NotPublic),
        ("::", AddressRefused::NotPublic),
        ("255.255.255.255", AddressRefused::NotPublic),
        ("224.0.0.1", AddressRefused::NotPublic),
        ("ff02::1", AddressRefused::NotPublic),
        ("192.0.2.10", AddressRefused::NotPublic),
        ("2001:db8::1", AddressRefused::NotPublic),
        ("64:ff9b::7f00:1", AddressRefused::NotPublic),
    ] {
        assert_eq!(refused(raw), Some(why), "{raw}");
    }
    for public in [
        "8.8.8.8",
        "203.0.114.7",
        "2606:4700::1111",
        "::ffff:1.1.1.1",
    ] {
        assert_eq!(refused(public), None, "{public}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// I5: a body signed with the secret at a time within the tolerance verifies; the same
    /// header over a body changed in any one byte never does.
    #[test]
    fn i5_a_signature_verifies_its_body_and_no_body_changed_by_one_byte(
        body in proptest::collection::vec(any::<u8>(), 1..300),
        secret in "whsec_[A-Za-z0-9]{8,40}",
        at in 1_600_000_000i64..1_900_000_000,
        skew in -300i64..=300,
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        use hmac::Mac as _;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{at}.").as_bytes());
        mac.update(&body);
        let v1 = portico_core::model::Sha256Digest(mac.finalize().into_bytes().into()).to_hex();
        let header = stripe_header(at, &v1);
        prop_assert_eq!(verify_stripe(&header, &body, &secret, at + skew, 300), Ok(()));
        let mut changed = body.clone();
        changed[flip.index(body.len())] ^= 1 << bit;
        prop_assert_eq!(
            verify_stripe(&header, &changed, &secret, at + skew, 300),
            Err(SignatureRefused::Mismatch)
        );
    }
}
