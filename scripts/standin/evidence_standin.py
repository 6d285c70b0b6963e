#!/usr/bin/env python3
"""Local stand-in for the two AWS APIs moto lacks, for the tests.

Serves, on 127.0.0.1, with their real wire protocols (shapes from the botocore models):
  * IAM Toolbox (Preview), rest-json: GetRequestAuthorizationDetails
    (GET /authorization-details/{authorizationId}[?nextToken=]) and
    GetRequestAuthorizationPolicy (GET /authorization-details/{authorizationId}/policy?policyUri=);
  * STS DecodeAuthorizationMessage, query protocol (POST / form body, XML answer).
Every other request (any other STS action) is forwarded verbatim to the moto server given by
--moto-url, so tests point AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM_TOOLBOX here.

Tests seed answers and faults through a JSON control API under /_standin/ (see README.md).
Standard library only.

    python scripts/standin/evidence_standin.py --port 0 --moto-url http://127.0.0.1:5000
"""

import argparse
import base64
import http.client
import json
import os
import re
import signal
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
AUTHORIZATION_ID = re.compile(r"[0-9a-z]+")  # the model's pattern; max 256
AUTHORIZATION_ID_MAX = 256
POLICY_URI_MAX = 2048
ENCODED_MESSAGE_MAX = 10240
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "expect", "te", "upgrade",
              "proxy-connection", "trailer"}

# Fault name -> (status, error code, message). "Throttle" is what {"ThrottleTimes": N} gives.
TOOLBOX_FAULTS = {
    "NotFound": (404, "ResourceNotFoundException",
                 "The requested authorization details do not exist or have expired."),
    "AccessDenied": (403, "AccessDeniedException",
                     "User is not authorized to perform this action."),
    "Internal": (500, "InternalServerException", "An internal error occurred. Try again."),
    "Validation": (400, "ValidationException", "The request is not valid."),
    "Throttle": (429, "ThrottlingException", "Rate exceeded"),
}
# STS: (status, Type, Code, message).
STS_FAULTS = {
    "Invalid": (400, "Sender", "InvalidAuthorizationMessageException",
                "The message is invalid or has expired."),
    "AccessDenied": (403, "Sender", "AccessDenied",
                     "User is not authorized to perform: sts:DecodeAuthorizationMessage"),
    "Throttle": (400, "Sender", "Throttling", "Rate exceeded"),
}


class ApiError(Exception):
    """An error answer of one of the served APIs (status, code, message)."""

    def __init__(self, status, code, message, sender_type="Sender"):
        super().__init__(message)
        self.status, self.code, self.message, self.sender_type = status, code, message, sender_type


class State:
    """Seeded authorizations and encoded messages, faults, and the request log (thread-safe)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.authorizations = {}    # id -> {"Details", "Policies", "PageSize", "Fault", "Calls"}
        self.messages = {}          # encoded -> {"DecodedMessage", "Fault", "Calls"}
        self.global_faults = {}     # "iam-toolbox" | "sts" -> {"Fault", "Calls"}
        self.requests = []

    def log(self, entry):
        with self.lock:
            self.requests.append(entry)


def check_fault(entry, faults):
    """The fault of a seeded entry (or global fault) for this call, counting the call; or None.
    A fault is a name from `faults`, {"ThrottleTimes": N} (the first N calls throttle),
    or {"Error": name, "Message": text}."""
    if entry is None:
        return None
    entry["Calls"] += 1
    fault = entry.get("Fault")
    if fault is None:
        return None
    if isinstance(fault, dict) and "ThrottleTimes" in fault:
        return faults["Throttle"] if entry["Calls"] <= int(fault["ThrottleTimes"]) else None
    if isinstance(fault, dict):
        *head, message = faults[fault["Error"]]
        return (*head, fault.get("Message", message))
    return faults[fault]


def valid_fault(fault, faults):
    if fault is None:
        return True
    if isinstance(fault, dict):
        if "ThrottleTimes" in fault:
            return isinstance(fault["ThrottleTimes"], int) and fault["ThrottleTimes"] >= 0
        return fault.get("Error") in faults
    return fault in faults or fault == "Throttle"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # keep-alive; every answer carries Content-Length

    def version_string(self):
        return "evidence-standin"

    # --- plumbing -------------------------------------------------------------------------

    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass    # trailers
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def begin_log(self, entry):
        """Marks `entry` as this request's log entry; it is logged just before the answer goes out."""
        self.pending_entry = entry

    def flush_log(self, status):
        """Logs the pending entry (once), before any byte of the answer is sent: a client that
        holds its answer must find its request in the log (a log written after the answer raced
        with the client's next read of /_standin/requests)."""
        entry, self.pending_entry = getattr(self, "pending_entry", None), None
        if entry is not None:
            entry.setdefault("Status", status)
            self.state.log(entry)

    def send(self, status, body, content_type, headers=()):
        self.flush_log(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status, obj, headers=()):
        self.send(status, json.dumps(obj).encode(), "application/json", headers)

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_GET

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_standin/"):
            self.control(url.path, body)
        elif url.path.startswith("/authorization-details/"):
            self.toolbox(url, body)
        else:
            self.sts(url, body)

    # --- control API ----------------------------------------------------------------------

    def control(self, path, body):
        try:
            data = json.loads(body or b"null")
            answer = self.control_action(self.command, path, data)
        except (ValueError, KeyError, TypeError) as err:
            self.send_json(400, {"error": f"{type(err).__name__}: {err}"})
            return
        if answer is None:
            self.send_json(404, {"error": f"no control endpoint {self.command} {path}"})
        else:
            self.send_json(200, answer)

    def control_action(self, method, path, data):
        state = self.state
        with state.lock:
            if (method, path) == ("POST", "/_standin/reset"):
                state.reset()
                return {}
            if (method, path) == ("GET", "/_standin/requests"):
                return list(state.requests)
            if (method, path) == ("POST", "/_standin/authorizations"):
                details, fault = data["Details"], data.get("Fault")
                if not isinstance(details, dict) or not valid_fault(fault, TOOLBOX_FAULTS):
                    raise ValueError("Details must be an object; Fault one of "
                                     f"{sorted(TOOLBOX_FAULTS)}, ThrottleTimes or Error")
                page_size = data.get("PageSize")
                if page_size is not None and (not isinstance(page_size, int) or page_size < 1):
                    raise ValueError("PageSize must be a positive integer")
                state.authorizations[str(data["AuthorizationId"])] = {
                    "Details": {k: v for k, v in details.items() if k != "nextToken"},
                    "Policies": dict(data.get("Policies") or {}),
                    "PageSize": page_size, "Fault": fault, "Calls": 0}
                return {}
            if (method, path) == ("POST", "/_standin/encoded-messages"):
                fault = data.get("Fault")
                decoded = data["DecodedMessage"]
                if not isinstance(decoded, str) or not valid_fault(fault, STS_FAULTS):
                    raise ValueError("DecodedMessage must be a string; Fault one of "
                                     f"{sorted(STS_FAULTS)}, ThrottleTimes or Error")
                state.messages[str(data["EncodedMessage"])] = {
                    "DecodedMessage": decoded, "Fault": fault, "Calls": 0}
                return {}
            if (method, path) == ("POST", "/_standin/fault"):
                service, fault = data["Service"], data.get("Fault")
                faults = {"iam-toolbox": TOOLBOX_FAULTS, "sts": STS_FAULTS}[service]
                if not valid_fault(fault, faults):
                    raise ValueError(f"Fault must be null, one of {sorted(faults)}, "
                                     "ThrottleTimes or Error")
                if fault is None:
                    state.global_faults.pop(service, None)
                else:
                    state.global_faults[service] = {"Fault": fault, "Calls": 0}
                return {}
        return None

    # --- IAM Toolbox (rest-json) ----------------------------------------------------------

    def toolbox(self, url, body):
        request_id = str(uuid.uuid4())
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        parts = url.path[len("/authorization-details/"):].split("/")
        entry = {"Service": "iam-toolbox"}
        self.begin_log(entry)
        try:
            if self.command != "GET" or parts[1:] not in ([], ["policy"]):
                raise ApiError(404, "UnknownOperationException",
                               f"No operation matches {self.command} {url.path}")
            auth_id = urllib.parse.unquote(parts[0])
            entry["AuthorizationId"] = auth_id
            if len(parts) == 1:
                entry["Operation"] = "GetRequestAuthorizationDetails"
                entry["NextToken"] = first(query, "nextToken")
                answer = self.toolbox_answer(auth_id, lambda seeded: self.details_page(
                    auth_id, seeded, entry["NextToken"]))
            else:
                entry["Operation"] = "GetRequestAuthorizationPolicy"
                uri = entry["PolicyUri"] = first(query, "policyUri")
                answer = self.toolbox_answer(auth_id, lambda seeded: self.policy(seeded, uri))
            entry["Status"] = 200
            self.send_json(200, answer, [("x-amzn-RequestId", request_id)])
        except ApiError as err:
            entry["Status"], entry["ErrorCode"] = err.status, err.code
            self.send_json(err.status, {"message": err.message},
                           [("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", err.code)])
        except Exception as err:   # a bug here must still answer in the protocol
            entry["Status"], entry["ErrorCode"] = 500, "InternalServerException"
            self.send_json(500, {"message": f"stand-in error: {err!r}"},
                           [("x-amzn-RequestId", request_id),
                            ("x-amzn-ErrorType", "InternalServerException")])
        finally:
            self.flush_log(entry.get("Status"))   # only if no answer was sent

    def toolbox_answer(self, auth_id, answer):
        """Faults and validation common to both operations, then `answer(seeded)`."""
        state = self.state
        with state.lock:
            fault = check_fault(state.global_faults.get("iam-toolbox"), TOOLBOX_FAULTS)
            if fault:
                raise ApiError(*fault)
            if not AUTHORIZATION_ID.fullmatch(auth_id) or len(auth_id) > AUTHORIZATION_ID_MAX:
                raise ApiError(400, "ValidationException",
                               f"1 validation error detected: Value '{auth_id}' at "
                               "'authorizationId' failed to satisfy constraint: Member must "
                               "satisfy regular expression pattern: "
                               "[0123456789abcdefghijklmnopqrstuvwxyz]+ and have length "
                               f"less than or equal to {AUTHORIZATION_ID_MAX}")
            seeded = state.authorizations.get(auth_id)
            if seeded is None:
                raise ApiError(*TOOLBOX_FAULTS["NotFound"])
            fault = check_fault(seeded, TOOLBOX_FAULTS)
            if fault:
                raise ApiError(*fault)
            return answer(seeded)

    @staticmethod
    def details_page(auth_id, seeded, token):
        details = seeded["Details"]
        evaluations = details.get("evaluations") or []
        start = 0
        if token is not None:
            try:
                tok_id, tok_start = base64.urlsafe_b64decode(token.encode()).decode().split(":")
                start = int(tok_start)
                if tok_id != auth_id or not 0 <= start <= len(evaluations):
                    raise ValueError
            except ValueError:
                raise ApiError(400, "ValidationException", "The nextToken is not valid.") from None
        size = seeded["PageSize"] or max(len(evaluations), 1)
        page = dict(details, evaluations=evaluations[start:start + size])
        if start + size < len(evaluations):
            page["nextToken"] = base64.urlsafe_b64encode(
                f"{auth_id}:{start + size}".encode()).decode()
        return page

    @staticmethod
    def policy(seeded, uri):
        if uri is None or not 1 <= len(uri) <= POLICY_URI_MAX:
            raise ApiError(400, "ValidationException",
                           "1 validation error detected: Value at 'policyUri' failed to satisfy "
                           f"constraint: Member must have length between 1 and {POLICY_URI_MAX}")
        if uri not in seeded["Policies"]:
            raise ApiError(404, "ResourceNotFoundException",
                           f"The policy {uri} was not evaluated for this authorization.")
        return {"policyDocument": seeded["Policies"][uri]}

    # --- STS (query protocol) -------------------------------------------------------------

    def sts(self, url, body):
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if self.command == "POST" and "x-www-form-urlencoded" in self.headers.get(
                "Content-Type", "x-www-form-urlencoded"):
            params.update(urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                keep_blank_values=True))
        action = first(params, "Action")
        entry = {"Service": "sts", "Operation": action}
        self.begin_log(entry)
        request_id = str(uuid.uuid4())
        try:
            with self.state.lock:
                fault = check_fault(self.state.global_faults.get("sts"), STS_FAULTS)
            if fault:
                status, kind, code, message = fault
                raise ApiError(status, code, message, kind)
            if action != "DecodeAuthorizationMessage":
                if action == "AssumeRole":
                    # Logged so that tests can read the session names the adapter chose.
                    entry["RoleArn"] = first(params, "RoleArn")
                    entry["RoleSessionName"] = first(params, "RoleSessionName")
                entry["Forwarded"] = True
                entry["Status"] = self.forward(body)
                return
            encoded = first(params, "EncodedMessage")
            entry["EncodedMessagePrefix"] = (encoded or "")[:32]
            decoded = self.decode(encoded)
            entry["Status"] = 200
            xml = (f'<DecodeAuthorizationMessageResponse xmlns="{STS_NS}">\n'
                   "  <DecodeAuthorizationMessageResult>\n"
                   f"    <DecodedMessage>{xml_text(decoded)}</DecodedMessage>\n"
                   "  </DecodeAuthorizationMessageResult>\n"
                   "  <ResponseMetadata>\n"
                   f"    <RequestId>{request_id}</RequestId>\n"
                   "  </ResponseMetadata>\n"
                   "</DecodeAuthorizationMessageResponse>\n")
            self.send(200, xml.encode(), "text/xml", [("x-amzn-RequestId", request_id)])
        except ApiError as err:
            entry["Status"], entry["ErrorCode"] = err.status, err.code
            xml = (f'<ErrorResponse xmlns="{STS_NS}">\n'
                   "  <Error>\n"
                   f"    <Type>{err.sender_type}</Type>\n"
                   f"    <Code>{xml_text(err.code)}</Code>\n"
                   f"    <Message>{xml_text(err.message)}</Message>\n"
                   "  </Error>\n"
                   f"  <RequestId>{request_id}</RequestId>\n"
                   "</ErrorResponse>\n")
            self.send(err.status, xml.encode(), "text/xml", [("x-amzn-RequestId", request_id)])
        finally:
            self.flush_log(entry.get("Status"))   # only if no answer was sent

    def decode(self, encoded):
        if encoded is None or not 1 <= len(encoded) <= ENCODED_MESSAGE_MAX:
            raise ApiError(400, "ValidationError",
                           "1 validation error detected: Value at 'encodedMessage' failed to "
                           "satisfy constraint: Member must have length between 1 and "
                           f"{ENCODED_MESSAGE_MAX}")
        with self.state.lock:
            seeded = self.state.messages.get(encoded)
            if seeded is None:
                status, kind, code, message = STS_FAULTS["Invalid"]
                raise ApiError(status, code, message, kind)
            fault = check_fault(seeded, STS_FAULTS)
            if fault:
                status, kind, code, message = fault
                raise ApiError(status, code, message, kind)
            return seeded["DecodedMessage"]

    def forward(self, body):
        """Sends this request verbatim to moto and its answer back; returns moto's status."""
        moto = urllib.parse.urlsplit(self.server.moto_url)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["Content-Length"] = str(len(body))
        try:
            conn = http.client.HTTPConnection(moto.hostname, moto.port or 80, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                status, answer_headers = answer.status, answer.getheaders()
            finally:
                conn.close()
        except OSError as err:
            self.send(502, f"stand-in: moto at {self.server.moto_url} unreachable: {err}\n"
                      .encode(), "text/plain")
            return 502
        self.flush_log(status)
        self.send_response(status)
        for name, value in answer_headers:
            if name.lower() not in HOP_BY_HOP and name.lower() not in (
                    "content-length", "server", "date"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status


def first(params, name):
    values = params.get(name)
    return values[0] if values else None


def xml_text(text):
    """Element text: &, <, > escaped, and CR as a reference (a parser would turn it into LF)."""
    return escape(text).replace("\r", "&#13;")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--moto-url", required=True, help="where other STS requests go")
    parser.add_argument("--exit-on-stdin-close", action="store_true",
                        help="exit when stdin reaches end of file (watchdog of the parent)")
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.state, server.moto_url, server.verbose = State(), args.moto_url.rstrip("/"), args.verbose

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    if args.exit_on_stdin_close:
        def watch_stdin():
            while os.read(sys.stdin.fileno(), 4096):   # unbuffered: no lock held at exit
                pass
            server.shutdown()
        threading.Thread(target=watch_stdin, daemon=True).start()

    print(f"standin listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
