//! Client capabilities (MSAL's `WithClientCapabilities`): a client that can handle claims challenges says so
//! with `cp1`, and Entra then issues it tokens that continuous access evaluation can revoke at once (long-lived,
//! since a revoked session is answered by a challenge rather than waited out). The capabilities travel as a
//! claims request, `{"access_token":{"xms_cc":{"values":["cp1"]}}}`, on every authorization and token request,
//! merged with the claims of a challenge when there is one.

use serde_json::{Map, Value, json};

/// `claims` (a JSON claims request, OpenID Connect Core §5.5) with `capabilities` added under
/// `access_token.xms_cc.values`; `None` when there is neither. Claims that are not a JSON object are passed on
/// as they are (the sign-in route accepts only JSON; a provider judges the rest).
pub(crate) fn with_capabilities(claims: Option<&str>, capabilities: &[String]) -> Option<String> {
    if capabilities.is_empty() {
        return claims.map(str::to_owned);
    }
    let mut request = match claims.map(serde_json::from_str::<Value>) {
        None => Map::new(),
        Some(Ok(Value::Object(request))) => request,
        Some(_) => return claims.map(str::to_owned),
    };
    let access_token = request.entry("access_token").or_insert_with(|| json!({}));
    if !access_token.is_object() {
        *access_token = json!({});
    }
    let xms_cc = access_token.as_object_mut().expect("an object").entry("xms_cc").or_insert_with(|| json!({}));
    if !xms_cc.is_object() {
        *xms_cc = json!({});
    }
    let values = xms_cc.as_object_mut().expect("an object").entry("values").or_insert_with(|| json!([]));
    if !values.is_array() {
        *values = json!([]);
    }
    let values = values.as_array_mut().expect("an array");
    for capability in capabilities {
        if !values.iter().any(|value| value.as_str() == Some(capability)) {
            values.push(Value::String(capability.clone()));
        }
    }
    Some(Value::Object(request).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merged(claims: Option<&str>, capabilities: &[&str]) -> Option<Value> {
        let capabilities: Vec<String> = capabilities.iter().map(|c| (*c).to_owned()).collect();
        with_capabilities(claims, &capabilities).map(|json| serde_json::from_str(&json).unwrap_or(Value::Null))
    }

    #[test]
    fn capabilities_are_a_claims_request_merged_with_a_challenge() {
        assert_eq!(merged(None, &[]), None);
        assert_eq!(merged(None, &["cp1"]), Some(json!({"access_token": {"xms_cc": {"values": ["cp1"]}}})));
        // Entra's CAE challenge keeps its `nbf`, and gains the capability.
        let challenge = r#"{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}"#;
        assert_eq!(
            merged(Some(challenge), &["cp1"]),
            Some(
                json!({"access_token": {"nbf": {"essential": true, "value": "1604106651"}, "xms_cc": {"values": ["cp1"]}}})
            )
        );
        // Already there: not twice. Without capabilities: the challenge as it came.
        let declared = r#"{"access_token":{"xms_cc":{"values":["cp1"]}},"id_token":{"auth_time":{"essential":true}}}"#;
        assert_eq!(merged(Some(declared), &["cp1"]), Some(serde_json::from_str(declared).unwrap()));
        assert_eq!(with_capabilities(Some(challenge), &[]).as_deref(), Some(challenge));
        // Odd shapes are replaced where they would hold the capability, kept elsewhere.
        assert_eq!(
            merged(Some(r#"{"access_token":{"xms_cc":"x"},"userinfo":1}"#), &["cp1"]),
            Some(json!({"access_token": {"xms_cc": {"values": ["cp1"]}}, "userinfo": 1}))
        );
        assert_eq!(with_capabilities(Some("[1]"), &["cp1".to_owned()]).as_deref(), Some("[1]"));
    }
}
