//! Getting an access token: a token from the environment, the Salesforce CLI, the OAuth JWT
//! bearer flow or the client credentials flow (reference §5). The token only ever lives in a
//! [`Secret`].

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::error::{AuthError, CollectError, check_url};
use super::limits::Limits;
use super::request::{Credential, FormValue, HttpMethod, PlannedRequest, RequestBody, TOKEN_PATH};
use super::secret::Secret;
use super::transport::{Session, Transport};
use super::url::{display_url, is_loopback};

/// The environment variable holding an access token (the same name the Salesforce CLI uses).
pub const ACCESS_TOKEN_ENV: &str = "SF_ACCESS_TOKEN";
/// The environment variable holding the client secret of the client credentials flow.
pub const CLIENT_SECRET_ENV: &str = "SF_CLIENT_SECRET";
/// Overrides the Salesforce CLI program (default `sf` on PATH).
pub const SF_BIN_ENV: &str = "ECI_AUDIT_SF_BIN";

/// How the collector gets its access token.
///
/// `Debug` shows URLs as `scheme://host[:port]/path` and never a secret.
#[derive(Clone)]
pub enum AuthMethod {
    /// An instance URL and a token the caller already has (`SF_ACCESS_TOKEN`).
    AccessToken { instance_url: String, token: Secret },
    /// `sf org display` / `sf org auth show-access-token` for an alias or username.
    SfCli { target_org: String },
    /// OAuth 2.0 JWT bearer flow: the connected app's consumer key, the private key whose
    /// certificate is uploaded to the app, the username to log in as, and the login URL.
    JwtBearer {
        client_id: String,
        key_file: PathBuf,
        username: String,
        login_url: String,
        /// The `aud` claim; by default `https://login.salesforce.com`, or
        /// `https://test.salesforce.com` for sandbox login URLs (loopback login URLs are used
        /// as they are, for local fakes).
        audience: Option<String>,
    },
    /// OAuth 2.0 client credentials flow against the org's My Domain.
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
        login_url: String,
    },
    /// No credential at all: the org as the command-line flags name it, for
    /// [`plan`](super::plan) only (`--print-plan`). Building it reads no environment variable,
    /// runs no `sf` and opens no key file; [`collect`](super::collect) refuses it.
    ///
    /// How the CLI maps its live flags (none of them needs `SF_ACCESS_TOKEN`,
    /// `SF_CLIENT_SECRET` or `sf`):
    ///
    /// - `--instance-url URL` → `PlanOnly { instance_url: Some(URL), token_flow: None }`;
    /// - `--target-org ALIAS` → `PlanOnly { instance_url: None, token_flow: None }` (the plan
    ///   then shows `<instance_url>`; [`AuthMethod::SfCli`] plans the same without running
    ///   `sf`);
    /// - `--client-id ID --jwt-key-file F --username U --login-url L` →
    ///   `PlanOnly { instance_url: None, token_flow: Some(TokenFlow::JwtBearer { login_url: L }) }`;
    /// - `--client-id ID --login-url L` →
    ///   `PlanOnly { instance_url: None, token_flow: Some(TokenFlow::ClientCredentials { login_url: L }) }`.
    ///
    /// For the Aircall ping line use [`AircallCredentials::for_plan_from_env`](super::AircallCredentials::for_plan_from_env),
    /// which does not read the Aircall token either.
    PlanOnly {
        /// The instance URL, when the flags give it; plans show `<instance_url>` otherwise.
        instance_url: Option<String>,
        /// The token request a live run would make first, if any.
        token_flow: Option<TokenFlow>,
    },
}

/// The OAuth token request of a [`AuthMethod::PlanOnly`] target (listed, never sent).
#[derive(Clone, PartialEq, Eq)]
pub enum TokenFlow {
    /// The JWT bearer flow (`--client-id` with `--jwt-key-file`) against this login URL.
    JwtBearer { login_url: String },
    /// The client credentials flow (`--client-id` alone) against this login URL.
    ClientCredentials { login_url: String },
}

impl fmt::Debug for TokenFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, login_url) = match self {
            TokenFlow::JwtBearer { login_url } => ("JwtBearer", login_url),
            TokenFlow::ClientCredentials { login_url } => ("ClientCredentials", login_url),
        };
        f.debug_struct(name)
            .field("login_url", &display_url(login_url))
            .finish()
    }
}

impl fmt::Debug for AuthMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthMethod::AccessToken {
                instance_url,
                token,
            } => f
                .debug_struct("AccessToken")
                .field("instance_url", &display_url(instance_url))
                .field("token", token)
                .finish(),
            AuthMethod::SfCli { target_org } => f
                .debug_struct("SfCli")
                .field("target_org", target_org)
                .finish(),
            AuthMethod::JwtBearer {
                client_id,
                key_file,
                username,
                login_url,
                audience,
            } => f
                .debug_struct("JwtBearer")
                .field("client_id", client_id)
                .field("key_file", key_file)
                .field("username", username)
                .field("login_url", &display_url(login_url))
                .field("audience", &audience.as_deref().map(display_url))
                .finish(),
            AuthMethod::ClientCredentials {
                client_id,
                client_secret,
                login_url,
            } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", client_secret)
                .field("login_url", &display_url(login_url))
                .finish(),
            AuthMethod::PlanOnly {
                instance_url,
                token_flow,
            } => f
                .debug_struct("PlanOnly")
                .field("instance_url", &instance_url.as_deref().map(display_url))
                .field("token_flow", token_flow)
                .finish(),
        }
    }
}

/// A non-blank secret from the environment, trimmed.
fn secret_from_env(var: &'static str, hint: &'static str) -> Result<Secret, AuthError> {
    std::env::var(var)
        .ok()
        .filter(|t| !t.trim().is_empty())
        .map(|t| Secret::new(t.trim()))
        .ok_or(AuthError::MissingEnv { var, hint })
}

impl AuthMethod {
    /// An instance URL with the token from `SF_ACCESS_TOKEN` (never from a command-line value).
    pub fn access_token_from_env(instance_url: impl Into<String>) -> Result<Self, AuthError> {
        let token = secret_from_env(
            ACCESS_TOKEN_ENV,
            "export the access token (e.g. from `sf org auth show-access-token`) or use --target-org",
        )?;
        Ok(AuthMethod::AccessToken {
            instance_url: instance_url.into(),
            token,
        })
    }

    /// The client credentials flow with the secret from `SF_CLIENT_SECRET`.
    pub fn client_credentials_from_env(
        client_id: impl Into<String>,
        login_url: impl Into<String>,
    ) -> Result<Self, AuthError> {
        let client_secret = secret_from_env(
            CLIENT_SECRET_ENV,
            "export the connected app's consumer secret for the client credentials flow",
        )?;
        Ok(AuthMethod::ClientCredentials {
            client_id: client_id.into(),
            client_secret,
            login_url: login_url.into(),
        })
    }

    /// The instance URL when it is known before authenticating.
    pub(crate) fn known_instance_url(&self) -> Option<&str> {
        match self {
            AuthMethod::AccessToken { instance_url, .. } => Some(instance_url),
            AuthMethod::PlanOnly { instance_url, .. } => instance_url.as_deref(),
            _ => None,
        }
    }

    /// The token request this method makes (JWT and client credentials), for plans; its login
    /// URL is checked as a live run checks it. The JWT assertion is not signed here: a plan
    /// reads no key file.
    pub(crate) fn planned_token_request(&self) -> Result<Option<PlannedRequest>, AuthError> {
        let (login_url, grant) = match self {
            AuthMethod::JwtBearer { login_url, .. }
            | AuthMethod::PlanOnly {
                token_flow: Some(TokenFlow::JwtBearer { login_url }),
                ..
            } => (login_url, "JWT bearer"),
            AuthMethod::ClientCredentials { login_url, .. }
            | AuthMethod::PlanOnly {
                token_flow: Some(TokenFlow::ClientCredentials { login_url }),
                ..
            } => (login_url, "client credentials"),
            _ => return Ok(None),
        };
        let base = check_url("login URL", login_url)?;
        Ok(Some(token_request(&base, grant, Vec::new())))
    }
}

fn token_request(login_url: &str, grant: &str, form: Vec<(String, FormValue)>) -> PlannedRequest {
    PlannedRequest {
        method: HttpMethod::Post,
        body: RequestBody::Form(form),
        credential: Credential::None,
        counts_against_limit: false,
        ..PlannedRequest::get(
            0,
            login_url,
            TOKEN_PATH,
            format!("OAuth token ({grant} flow)"),
        )
    }
}

/// Runs the chosen flow and returns the session (instance origin and token).
pub(crate) async fn authenticate(
    method: &AuthMethod,
    transport: &mut Transport,
) -> Result<Session, CollectError> {
    match method {
        AuthMethod::AccessToken {
            instance_url,
            token,
        } => {
            if token.is_blank() {
                return Err(AuthError::MissingEnv {
                    var: ACCESS_TOKEN_ENV,
                    hint: "the access token is empty",
                }
                .into());
            }
            Ok(Session {
                instance_url: check_url("instance URL", instance_url)?,
                token: token.clone(),
            })
        }
        AuthMethod::SfCli { target_org } => Ok(sf_cli_session(target_org, &transport.limits).await?),
        AuthMethod::PlanOnly { .. } => Err(CollectError::InvalidOption {
            option: "authentication",
            reason: "a plan-only target carries no credential: it can be printed (--print-plan), not collected".to_string(),
        }),
        AuthMethod::JwtBearer {
            client_id,
            key_file,
            username,
            login_url,
            audience,
        } => {
            let login = check_url("login URL", login_url)?;
            transport.set_login_origin(login.clone());
            let audience = audience.clone().unwrap_or_else(|| default_audience(&login));
            let assertion = jwt_assertion(client_id, username, &audience, key_file)?;
            transport.redactor.add(&assertion);
            let form = vec![
                (
                    "grant_type".to_string(),
                    FormValue::Plain("urn:ietf:params:oauth:grant-type:jwt-bearer".to_string()),
                ),
                (
                    "assertion".to_string(),
                    FormValue::Secret(Secret::new(assertion)),
                ),
            ];
            request_token(transport, &token_request(&login, "JWT bearer", form)).await
        }
        AuthMethod::ClientCredentials {
            client_id,
            client_secret,
            login_url,
        } => {
            let login = check_url("login URL", login_url)?;
            transport.set_login_origin(login.clone());
            transport.redactor.add(client_secret.expose());
            let form = vec![
                (
                    "grant_type".to_string(),
                    FormValue::Plain("client_credentials".to_string()),
                ),
                ("client_id".to_string(), FormValue::Plain(client_id.clone())),
                (
                    "client_secret".to_string(),
                    FormValue::Secret(client_secret.clone()),
                ),
            ];
            request_token(
                transport,
                &token_request(&login, "client credentials", form),
            )
            .await
        }
    }
}

fn default_audience(login_origin: &str) -> String {
    let host = url::Url::parse(login_origin)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
        .unwrap_or_default();
    if is_loopback(&host) {
        login_origin.to_string()
    } else if host == "test.salesforce.com" || host.ends_with(".sandbox.my.salesforce.com") {
        "https://test.salesforce.com".to_string()
    } else {
        "https://login.salesforce.com".to_string()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    instance_url: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

async fn request_token(
    transport: &Transport,
    req: &PlannedRequest,
) -> Result<Session, CollectError> {
    let response = transport.send(req).await?.required(req)?;
    let endpoint = req.path.clone();
    if !response.is_success() {
        let parsed: Option<TokenError> = serde_json::from_slice(&response.body).ok();
        let (error, description) = match parsed {
            Some(e) => (
                e.error.unwrap_or_else(|| "unknown_error".to_string()),
                e.error_description,
            ),
            None => ("unknown_error".to_string(), None),
        };
        let scrub = |s: String| transport.redactor.scrub(&s);
        return Err(AuthError::TokenRefused {
            endpoint,
            status: response.status,
            error: scrub(error),
            description: description.map(scrub),
        }
        .into());
    }
    let parsed: TokenResponse =
        serde_json::from_slice(&response.body).map_err(|e| AuthError::TokenResponse {
            endpoint: endpoint.clone(),
            detail: format!("not JSON: {e}"),
        })?;
    let token = parsed
        .access_token
        .filter(|t| !t.is_empty())
        .ok_or(AuthError::TokenResponse {
            endpoint: endpoint.clone(),
            detail: "no access_token".to_string(),
        })?;
    transport.redactor.add(&token);
    let instance_url = parsed.instance_url.ok_or(AuthError::TokenResponse {
        endpoint,
        detail: "no instance_url".to_string(),
    })?;
    Ok(Session {
        instance_url: check_url("instance URL", &instance_url)?,
        token: Secret::new(token),
    })
}

/// Builds and signs (RS256) the JWT bearer assertion. The key never leaves this function.
fn jwt_assertion(
    client_id: &str,
    username: &str,
    audience: &str,
    key_file: &PathBuf,
) -> Result<String, AuthError> {
    use rustls_pki_types::PrivateKeyDer;
    use rustls_pki_types::pem::PemObject;

    let key_error = |detail: &str| AuthError::KeyFile {
        path: key_file.clone(),
        detail: detail.to_string(),
    };
    let pem =
        std::fs::read(key_file).map_err(|e| key_error(&format!("cannot read: {}", e.kind())))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        key_error("no PEM private key found (expected BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY)")
    })?;
    let pair = match &key {
        PrivateKeyDer::Pkcs8(k) => ring::signature::RsaKeyPair::from_pkcs8(k.secret_pkcs8_der()),
        PrivateKeyDer::Pkcs1(k) => ring::signature::RsaKeyPair::from_der(k.secret_pkcs1_der()),
        _ => return Err(key_error("not an RSA private key (JWT bearer needs RS256)")),
    }
    .map_err(|e| key_error(&format!("RSA key rejected: {e}")))?;

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let claims = serde_json::json!({
        "iss": client_id,
        "sub": username,
        "aud": audience,
        // Salesforce accepts assertions valid for at most a few minutes.
        "exp": now + 180,
    });
    let claims = URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{claims}");
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut signature,
    )
    .map_err(|_| key_error("signing failed"))?;
    Ok(format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(&signature)
    ))
}

/// The `sf` program: `ECI_AUDIT_SF_BIN`, else `sf` on PATH.
fn sf_program() -> OsString {
    std::env::var_os(SF_BIN_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| OsString::from("sf"))
}

/// The session of `target_org` from the Salesforce CLI, each command bounded by `limits`.
async fn sf_cli_session(target_org: &str, limits: &Limits) -> Result<Session, AuthError> {
    let program = sf_program();
    let display_args = ["org", "display", "--target-org", target_org, "--json"];
    let token_args = [
        "org",
        "auth",
        "show-access-token",
        "--target-org",
        target_org,
        "--json",
    ];
    let (display, shown) = tokio::join!(
        run_sf(&program, &display_args, limits),
        run_sf(&program, &token_args, limits)
    );
    let display = display?;
    let instance_url = display
        .get("instanceUrl")
        .and_then(|v| v.as_str())
        .ok_or_else(|| AuthError::SfOutput {
            command: command_line(&display_args),
            detail: "no result.instanceUrl".to_string(),
        })?;
    let instance_url = check_url("instance URL", instance_url)?;
    let token = match shown {
        Ok(result) => result
            .get("accessToken")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        Err(
            e @ (AuthError::SfNotFound { .. }
            | AuthError::SfOutputTooLarge { .. }
            | AuthError::SfTimeout { .. }),
        ) => {
            return Err(e);
        }
        Err(_) => None,
    };
    let token = if let Some(token) = token.filter(|t| !t.is_empty()) {
        token
    } else {
        let fallback = display
            .get("accessToken")
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty() && !t.starts_with("[REDACTED]"));
        match fallback {
            Some(t) => t.to_string(),
            None => {
                return Err(AuthError::TokenRedacted {
                    target_org: target_org.to_string(),
                    detail: "no result.accessToken".to_string(),
                });
            }
        }
    };
    Ok(Session {
        instance_url,
        token: Secret::new(token),
    })
}

/// Why a capped read stopped early.
enum Capped {
    TooLarge,
    Io(std::io::Error),
}

/// Reads `reader` to its end, stopping as soon as it gave more than `limit` bytes. (tokio's
/// `AsyncReadExt` needs the `io-util` feature, which the collector does not otherwise use.)
async fn read_capped<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut R,
    limit: u64,
) -> Result<Vec<u8>, Capped> {
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 8192];
    loop {
        let n = std::future::poll_fn(|cx| {
            let mut buf = tokio::io::ReadBuf::new(&mut chunk);
            std::pin::Pin::new(&mut *reader)
                .poll_read(cx, &mut buf)
                .map_ok(|()| buf.filled().len())
        })
        .await
        .map_err(Capped::Io)?;
        if n == 0 {
            return Ok(out);
        }
        if u64::try_from(out.len() + n).unwrap_or(u64::MAX) > limit {
            return Err(Capped::TooLarge);
        }
        out.extend_from_slice(&chunk[..n]);
    }
}

fn command_line(args: &[&str]) -> String {
    format!("sf {}", args.join(" "))
}

/// Runs one `sf … --json` command and returns its `result` object. Its output is never quoted
/// in errors (it holds the token); only the CLI's own error name and message are. Each output
/// stream is read up to `limits.max_small_body_bytes`, and the whole run may take
/// `limits.sf_cli_timeout`; a CLI printing more or taking longer is killed.
async fn run_sf(
    program: &OsString,
    args: &[&str],
    limits: &Limits,
) -> Result<serde_json::Value, AuthError> {
    let command = command_line(args);
    let max_output = limits.max_small_body_bytes;
    let spawn_error = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::NotFound {
            AuthError::SfNotFound {
                program: program.to_string_lossy().into_owned(),
            }
        } else {
            AuthError::SfSpawn {
                program: program.to_string_lossy().into_owned(),
                source: e,
            }
        }
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(spawn_error)?;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(AuthError::SfOutput {
            command,
            detail: "no output pipes".to_string(),
        });
    };
    // The first stream over the limit ends both reads (the other may never close while the
    // CLI is blocked writing); dropping `child` then kills it (kill_on_drop), on a timeout too.
    let run = async {
        let (stdout, stderr) = tokio::try_join!(
            read_capped(&mut stdout, max_output),
            read_capped(&mut stderr, max_output)
        )?;
        let status = child.wait().await.map_err(Capped::Io)?;
        Ok((stdout, stderr, status))
    };
    let (stdout, stderr, status) = tokio::time::timeout(limits.sf_cli_timeout, run)
        .await
        .map_err(|_| AuthError::SfTimeout {
            command: command.clone(),
            timeout: limits.sf_cli_timeout,
        })?
        .map_err(|e| match e {
            Capped::TooLarge => AuthError::SfOutputTooLarge {
                command: command.clone(),
                limit_bytes: max_output,
            },
            Capped::Io(e) => spawn_error(e),
        })?;
    let output = std::process::Output {
        status,
        stdout,
        stderr,
    };
    // `--json` prints the envelope on stdout; some versions print errors on stderr.
    let parsed = serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .or_else(|| serde_json::from_slice::<serde_json::Value>(&output.stderr).ok());
    let Some(json) = parsed else {
        return Err(AuthError::SfOutput {
            command,
            detail: format!("no JSON on stdout (exit status {})", output.status),
        });
    };
    let status = json
        .get("status")
        .and_then(serde_json::Value::as_i64)
        .unwrap_or(-1);
    if status != 0 || !output.status.success() {
        // The CLI's own words may quote credentials (an SFDX auth URL, a session or refresh
        // token): none is known yet to redact by value, so they are removed by shape.
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(scrub_cli_text);
        return Err(AuthError::SfFailed {
            command,
            name: text("name"),
            message: text("message").unwrap_or_else(|| format!("exit status {}", output.status)),
        });
    }
    match json.get("result") {
        Some(result) if result.is_object() => Ok(result.clone()),
        _ => Err(AuthError::SfOutput {
            command,
            detail: "no result object".to_string(),
        }),
    }
}

/// Removes what looks like a credential from the Salesforce CLI's messages: SFDX auth URLs
/// (`force://…`), session IDs (`00D…!…`) and refresh tokens (`5Aep…`).
fn scrub_cli_text(text: &str) -> String {
    static SHAPES: std::sync::LazyLock<Option<regex::Regex>> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"force://\S+|\b00D[0-9A-Za-z]{12,15}![0-9A-Za-z._]+|\b5Aep[0-9A-Za-z._]{20,}",
        )
        .ok()
    });
    match SHAPES.as_ref() {
        Some(re) => re.replace_all(text, "[REDACTED]").into_owned(),
        // The pattern is a constant; without it nothing of the text is shown.
        None => "[the CLI's message is withheld]".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_messages_lose_credential_shapes() {
        let text = scrub_cli_text(
            "bad token 00DXX0000000001!AQ4AQFakeSessionId.x and force://PlatformCLI::5Aep861abc@acme.my.salesforce.com; refresh 5Aep861TooLongToBeAnythingElse123",
        );
        assert!(!text.contains("00DXX0000000001!"), "{text}");
        assert!(!text.contains("force://"), "{text}");
        assert!(!text.contains("5Aep861"), "{text}");
        assert!(text.starts_with("bad token [REDACTED]"), "{text}");
    }

    #[test]
    fn urls_must_be_https_except_loopback() {
        assert_eq!(
            check_url("instance URL", "https://Acme.my.salesforce.com/").unwrap(),
            "https://acme.my.salesforce.com"
        );
        assert_eq!(
            check_url("x", "http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            check_url("x", "http://localhost:1").unwrap(),
            "http://localhost:1"
        );
        assert_eq!(check_url("x", "http://[::1]:1").unwrap(), "http://[::1]:1");
        for bad in [
            "http://acme.my.salesforce.com",
            "ftp://x",
            "acme.my.salesforce.com",
            "https://u:p@acme.my.salesforce.com",
        ] {
            assert!(check_url("instance URL", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_are_shown_without_credentials_or_queries() {
        for (url, shown) in [
            (
                "https://admin:Sup3rS3cret@host.example/?sid=00DTOKEN",
                "https://host.example/",
            ),
            (
                "https://admin:Sup3rS3cret@host.example:8443/a/b?sid=00DTOKEN#frag",
                "https://host.example:8443/a/b",
            ),
            (
                "admin:Sup3rS3cret@host.example/?sid=00DTOKEN",
                "host.example/",
            ),
            ("https://admin:p@ss@host.example", "https://host.example/"),
            ("acme.my.salesforce.com", "acme.my.salesforce.com"),
            (
                "https:\\\\admin:Sup3rS3cret@host.example\\x?sid=00DTOKEN",
                "https://host.example/x",
            ),
        ] {
            assert_eq!(display_url(url), shown, "{url}");
        }
        for url in [
            "https://admin:Sup3rS3cret@host.example/?sid=00DTOKEN",
            "http://admin:Sup3rS3cret@remote.example/?sid=00DTOKEN",
            "ftp://admin:Sup3rS3cret@host.example/?sid=00DTOKEN",
            "admin:Sup3rS3cret@host.example/?sid=00DTOKEN",
            "https://admin:Sup3rS3cret@/?sid=00DTOKEN",
        ] {
            let err = check_url("login URL", url).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(
                !text.contains("Sup3rS3cret") && !text.contains("00DTOKEN"),
                "{text}"
            );
        }
        let method = AuthMethod::JwtBearer {
            client_id: "id".into(),
            key_file: PathBuf::from("server.key"),
            username: "u".into(),
            login_url: "https://admin:Sup3rS3cret@login.example/?sid=00DTOKEN".into(),
            audience: Some("https://admin:Sup3rS3cret@aud.example/".into()),
        };
        let text = format!("{method:?}");
        assert!(
            !text.contains("Sup3rS3cret") && !text.contains("00DTOKEN"),
            "{text}"
        );
        assert!(text.contains("https://login.example/"), "{text}");
    }

    #[test]
    fn audience_follows_the_login_host() {
        assert_eq!(
            default_audience("https://login.salesforce.com"),
            "https://login.salesforce.com"
        );
        assert_eq!(
            default_audience("https://test.salesforce.com"),
            "https://test.salesforce.com"
        );
        assert_eq!(
            default_audience("https://acme--dev.sandbox.my.salesforce.com"),
            "https://test.salesforce.com"
        );
        assert_eq!(
            default_audience("https://acme.my.salesforce.com"),
            "https://login.salesforce.com"
        );
        assert_eq!(default_audience("http://127.0.0.1:5"), "http://127.0.0.1:5");
    }

    #[test]
    fn key_file_errors_do_not_quote_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("server.key");
        std::fs::write(
            &path,
            "-----BEGIN PRIVATE KEY-----\nTOPSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let err = jwt_assertion("id", "u", "aud", &path).unwrap_err();
        let text = format!("{err} {err:?}");
        assert!(!text.contains("TOPSECRETKEYMATERIAL"), "{text}");
    }
}
