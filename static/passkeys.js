// Passkeys: the browser's side of the WebAuthn ceremonies. A form marked
// data-passkey="create" or "get" stays hidden unless this browser has
// WebAuthn; its [data-passkey-start] button takes the options (from
// data-options, or by posting the form's CSRF token to data-options-url),
// asks the browser for a credential, and posts it as JSON in the form's
// "credential" field. The server checks everything; nothing here is trusted.
(() => {
  'use strict';
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  const decode = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const encode = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = '';
    for (const byte of bytes) {
      text += String.fromCharCode(byte);
    }
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: decode(c.id) }));

  // A credential as JSON for the server: binary fields base64url.
  const asJson = (credential, response) => ({
    id: credential.id,
    rawId: encode(credential.rawId),
    type: credential.type,
    response,
    extensions: credential.getClientExtensionResults(),
  });

  const create = async (options) => {
    const publicKey = options.publicKey;
    publicKey.challenge = decode(publicKey.challenge);
    publicKey.user.id = decode(publicKey.user.id);
    publicKey.excludeCredentials = withIds(publicKey.excludeCredentials);
    const credential = await navigator.credentials.create({ publicKey });
    const response = credential.response;
    return asJson(credential, {
      attestationObject: encode(response.attestationObject),
      clientDataJSON: encode(response.clientDataJSON),
      transports: response.getTransports ? response.getTransports() : undefined,
    });
  };

  const get = async (options) => {
    const publicKey = options.publicKey;
    publicKey.challenge = decode(publicKey.challenge);
    publicKey.allowCredentials = withIds(publicKey.allowCredentials);
    const credential = await navigator.credentials.get({ publicKey });
    const response = credential.response;
    return asJson(credential, {
      authenticatorData: encode(response.authenticatorData),
      clientDataJSON: encode(response.clientDataJSON),
      signature: encode(response.signature),
      userHandle: response.userHandle ? encode(response.userHandle) : null,
    });
  };

  const fetchOptions = async (form) => {
    const body = new URLSearchParams({ csrf_token: form.elements.csrf_token.value });
    const answer = await fetch(form.dataset.optionsUrl, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    const json = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      throw new Error(json.error || 'Passkeys are not available right now. Try again later.');
    }
    return json;
  };

  const message = (error) => {
    switch (error && error.name) {
      case 'NotAllowedError':
        return 'The passkey request was cancelled or timed out. Try again.';
      case 'InvalidStateError':
        return 'This device already has a passkey for your account.';
      case 'SecurityError':
        return 'Passkeys do not work at this address of the site.';
      default:
        return (error && error.message) || 'The passkey could not be used.';
    }
  };

  for (const hint of document.querySelectorAll('[data-passkey-unsupported]')) {
    hint.hidden = true;
  }
  for (const form of document.querySelectorAll('[data-passkey-form]')) {
    form.hidden = false;
  }
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const button = form.querySelector('[data-passkey-start]');
    const status = form.querySelector('[data-passkey-status]');
    form.hidden = false;
    button.addEventListener('click', async () => {
      button.disabled = true;
      status.textContent = '';
      try {
        const options = form.dataset.options
          ? JSON.parse(form.dataset.options)
          : await fetchOptions(form);
        const credential = form.dataset.passkey === 'create'
          ? await create(options)
          : await get(options);
        const remember = form.querySelector('[data-passkey-remember]');
        const box = document.getElementById('remember');
        if (remember && box && box.checked) {
          remember.value = 'on';
        }
        form.elements.credential.value = JSON.stringify(credential);
        form.submit();
      } catch (error) {
        status.textContent = message(error);
        button.disabled = false;
      }
    });
  }
})();
