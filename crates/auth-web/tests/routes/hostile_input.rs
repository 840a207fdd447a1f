use rocket::http::{ContentType, Status};

use crate::common::{app, form_body};

async fn status_and_body(
    response: rocket::local::asynchronous::LocalResponse<'_>,
) -> (Status, String) {
    let status = response.status();
    (status, response.into_string().await.unwrap_or_default())
}

#[tokio::test]
async fn a_duplicated_field_is_refused() {
    let app = app().await;
    let token = app.token_from("/register").await;
    let body = form_body(&[
        ("email", "ada@example.com"),
        ("email", "eve@example.com"),
        ("name", "Ada"),
        ("password", "analytical engine"),
        ("csrf_token", &token),
    ]);
    let (status, html) = status_and_body(app.post_raw("/register", body).await).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("could not be read"));
}

#[tokio::test]
async fn invalid_utf8_is_refused_not_mangled() {
    let app = app().await;
    let token = app.token_from("/register").await;
    let body =
        format!("email=ada%40example.com&name=Ada&password=caf%FF%FE-secret&csrf_token={token}");
    let (status, _) = status_and_body(app.post_raw("/register", body).await).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert_eq!(
        crate::common::location(
            &app.login("ada@example.com", "caf\u{FFFD}\u{FFFD}-secret")
                .await
        ),
        None,
        "no account was made"
    );
}

#[tokio::test]
async fn nul_bytes_get_field_messages() {
    let app = app().await;
    let response = app
        .register("ada\0@example.com", "Ada\0", "pass\0word-long")
        .await;
    let (status, html) = status_and_body(response).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("Enter a valid email address"));
    assert!(html.contains("control characters"));
}

#[tokio::test]
async fn very_long_values_get_field_messages() {
    let app = app().await;
    let long_email = format!("{}@example.com", "a".repeat(300));
    let long_name = "n".repeat(101);
    let response = app
        .register(&long_email, &long_name, "analytical engine")
        .await;
    let (status, html) = status_and_body(response).await;
    assert_eq!(status, Status::UnprocessableEntity);
    assert!(html.contains("too long (at most 254"));
    assert!(html.contains("too long (at most 100"));
}

#[tokio::test]
async fn a_two_megabyte_form_is_a_413_page() {
    let app = app().await;
    let token = app.token_from("/register").await;
    let body = format!("csrf_token={token}&name={}", "a".repeat(2 * 1024 * 1024));
    let (status, html) = status_and_body(app.post_raw("/register", body).await).await;
    assert_eq!(status, Status::PayloadTooLarge);
    assert!(html.contains("Too much data"));
}

#[tokio::test]
async fn sql_and_look_alikes_in_the_email_are_form_errors() {
    let app = app().await;
    for (email, message) in [
        ("' OR '1'='1", "Enter a valid email address"),
        (
            "ada@example.com'; DROP TABLE users; --",
            "Enter a valid email address",
        ),
        ("\u{0430}da@example.com", "plain ASCII"),
    ] {
        let response = app.register(email, "Ada", "analytical engine").await;
        let (status, html) = status_and_body(response).await;
        assert_eq!(status, Status::UnprocessableEntity, "{email}");
        assert!(html.contains(message), "{email}");
    }
    let response = app.login("' OR '1'='1", "' OR '1'='1").await;
    assert_eq!(response.status(), Status::Unauthorized);
}

#[tokio::test]
async fn other_content_types_and_uploads_are_refused() {
    let app = app().await;
    let response = app
        .client
        .post("/login")
        .header(ContentType::JSON)
        .body(r#"{"email":"ada@example.com"}"#)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::UnsupportedMediaType);
    let token = app.token_from("/login").await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"email\"; filename=\"a.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nada@example.com\r\n--{boundary}--\r\n"
    );
    let response = app
        .client
        .post("/login")
        .header(ContentType::new("multipart", "form-data").with_params(("boundary", boundary)))
        .body(body)
        .dispatch()
        .await;
    assert_eq!(response.status(), Status::UnprocessableEntity);
}
