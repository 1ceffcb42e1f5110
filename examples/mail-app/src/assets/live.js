// The live inbox: reads /mail/messages with fetch(). When the app answers 401 because the user has not
// consented to Mail.Read yet (or must sign in again), the JSON answer carries `consent_url`: a fetch cannot
// follow a redirect to the identity provider, so the page shows a link for the user to follow instead.
"use strict";

const list = document.getElementById("messages");
const status = document.getElementById("status");
const consent = document.getElementById("consent");
const consentLink = document.getElementById("consent-link");

function show(messages) {
  list.replaceChildren(
    ...messages.map((message) => {
      const item = document.createElement("li");
      const subject = document.createElement("div");
      subject.className = "subject";
      subject.textContent = message.subject || "(no subject)";
      const from = document.createElement("div");
      from.className = "from";
      from.textContent = "from " + message.from;
      const body = document.createElement("p");
      body.textContent = message.body;
      item.append(subject, from, body);
      return item;
    }),
  );
  status.textContent = messages.length === 0 ? "No messages." : messages.length + " message(s), read just now.";
}

async function refresh() {
  status.textContent = "Reading your mail…";
  consent.hidden = true;
  try {
    const response = await fetch("/mail/messages", { headers: { Accept: "application/json" } });
    if (response.status === 401) {
      const answer = await response.json();
      consentLink.href = answer.consent_url;
      consent.hidden = false;
      status.textContent = "";
      return;
    }
    if (!response.ok) {
      status.textContent = "Your mail could not be read (" + response.status + "). Try again later.";
      return;
    }
    show(await response.json());
  } catch (error) {
    status.textContent = "Your mail could not be read: " + error.message;
  }
}

document.getElementById("refresh").addEventListener("click", refresh);
refresh();
