"""Proof that scripts/standin/evidence_standin.py speaks the real wire protocols.

Starts moto_server and the stand-in on 127.0.0.1 and talks to them with boto3's own clients
(built from the botocore models), so a parsed answer equal to the seeded data, or a raised
modeled exception, shows the stand-in answers as AWS would.

    .venv/bin/python -m unittest discover -s tests/standin -v
"""

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import unittest
import urllib.parse
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STANDIN = os.path.join(ROOT, "scripts", "standin", "evidence_standin.py")
MOTO_SERVER = os.path.join(os.path.dirname(sys.executable), "moto_server")
CREDENTIALS = {"region_name": "us-east-1", "aws_access_key_id": "testing",
               "aws_secret_access_key": "testing"}

AUTH_ID = "a1b2c3d4e5f6"
ROLE_ARN = "arn:aws:iam::123456789012:role/app"
DENY_URI = "arn:aws:organizations::123456789012:policy/o-abc/service_control_policy/p-deny"
INLINE_URI = "inline-7f3a9c"
DETAILS = {
    "requestContext": {
        "aws:PrincipalArn": ROLE_ARN,
        "aws:SourceIp": "192.0.2.10",
        "aws:MultiFactorAuthPresent": False,
        "aws:PrincipalTag/team": ["payments", "ops"],
    },
    "evaluations": [
        {"action": f"s3:GetObject{i}", "resource": f"arn:aws:s3:::bucket/key{i}",
         "context": {"s3:prefix": f"key{i}", "n": i},
         "evaluatedEffect": "EXPLICIT_DENY" if i == 0 else "IMPLICIT_DENY",
         "matchedPolicies": [{"uri": DENY_URI, "matchedStatements": [
             {"sid": "DenyS3", "evaluatedEffect": "DENY"}]}] if i == 0 else []}
        for i in range(5)
    ],
    "policies": [
        {"type": "SERVICE_CONTROL_POLICY", "inline": False, "uri": DENY_URI,
         "attachedTo": [{"arn": "arn:aws:organizations::123456789012:account/o-abc/123456789012"}]},
        {"type": "IDENTITY_BASED_POLICY", "inline": True, "uri": INLINE_URI,
         "attachedTo": [{"arn": ROLE_ARN}]},
    ],
}
POLICIES = {
    DENY_URI: {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyS3", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}]},
    INLINE_URI: {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/team": "payments"}}}]},
}

# A decoded authorization message in the format sts:DecodeAuthorizationMessage returns (one
# line of JSON), with characters XML must escape (<, &, ", >) and non-ASCII ones added in
# values so the round trip through the XML answer is tested.
DECODED = json.dumps({
    "allowed": False,
    "explicitDeny": False,
    "matchedStatements": {"items": []},
    "failures": {"items": []},
    "context": {
        "principal": {"id": "AROAEXAMPLEID:dev-session", "name": "dev-session",
                      "arn": "arn:aws:sts::123456789012:assumed-role/dev/dev-session"},
        "action": "ec2:RunInstances",
        "resource": "arn:aws:ec2:us-east-1:123456789012:instance/*",
        "conditions": {"items": [
            {"key": "ec2:InstanceType", "values": {"items": [{"value": "t3.micro"}]}},
            {"key": "aws:Region", "values": {"items": [{"value": "us-east-1"}]}},
            {"key": "aws:PrincipalTag/owner",
             "values": {"items": [{"value": "Zoë <ops> & \"team\" → 東京"}]}},
        ]},
    },
}, ensure_ascii=False, separators=(",", ":"))
ENCODED = "AQoDYXdzEJr+/=" + "x" * 40   # base64-ish, with characters the form must encode


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process):
    """Stops a server started here: closes its stdin, then SIGTERM, then kill."""
    if process.stdin:
        process.stdin.close()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdout, process.stderr):
        if stream:
            stream.close()


def start_standin(moto_url):
    process = subprocess.Popen(
        [sys.executable, STANDIN, "--port", "0", "--moto-url", moto_url, "--exit-on-stdin-close"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline().strip()
    prefix = "standin listening on "
    if not line.startswith(prefix):
        stop(process)
        raise RuntimeError(f"stand-in did not start: {line!r}")
    return process, line[len(prefix):]


class StandinTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = cls.standin = None
        try:
            port = free_port()
            cls.moto_url = f"http://127.0.0.1:{port}"
            cls.moto = subprocess.Popen([MOTO_SERVER, "-H", "127.0.0.1", "-p", str(port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(cls.moto_url + "/moto-api/", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or cls.moto.poll() is not None:
                        raise RuntimeError("moto_server did not start")
                    time.sleep(0.2)
            cls.standin, cls.url = start_standin(cls.moto_url)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for process in (cls.standin, cls.moto):
            if process is not None:
                stop(process)

    def setUp(self):
        self.control("reset")
        self.control("authorizations", AuthorizationId=AUTH_ID, Details=DETAILS,
                     Policies=POLICIES)
        self.control("encoded-messages", EncodedMessage=ENCODED, DecodedMessage=DECODED)
        retries = Config(retries={"mode": "standard", "total_max_attempts": 3})
        no_retries = Config(retries={"mode": "standard", "total_max_attempts": 1})
        self.toolbox = boto3.client("iam-toolbox", endpoint_url=self.url, config=retries,
                                    **CREDENTIALS)
        self.toolbox_once = boto3.client("iam-toolbox", endpoint_url=self.url,
                                         config=no_retries, **CREDENTIALS)
        self.sts = boto3.client("sts", endpoint_url=self.url, config=retries, **CREDENTIALS)
        self.sts_once = boto3.client("sts", endpoint_url=self.url, config=no_retries,
                                     **CREDENTIALS)

    def control(self, name, **body):
        request = urllib.request.Request(f"{self.url}/_standin/{name}",
                                         data=json.dumps(body).encode(), method="POST")
        return json.loads(urllib.request.urlopen(request, timeout=10).read())

    def requests(self):
        answer = urllib.request.urlopen(f"{self.url}/_standin/requests", timeout=10)
        return json.loads(answer.read())

    def assert_raises(self, exception, message_part, call):
        with self.assertRaises(exception) as caught:
            call()
        error = caught.exception.response["Error"]
        self.assertIn(message_part, error["Message"])
        return error

    # --- IAM Toolbox ----------------------------------------------------------------------

    def test_details_in_one_page_equal_the_seeded_data(self):
        answer = self.toolbox.get_request_authorization_details(authorizationId=AUTH_ID)
        answer.pop("ResponseMetadata")
        self.assertEqual(answer, DETAILS)

    def test_details_paginate_evaluations_with_policies_on_every_page(self):
        self.control("authorizations", AuthorizationId=AUTH_ID, Details=DETAILS,
                     Policies=POLICIES, PageSize=2)
        pages = list(self.toolbox.get_paginator("get_request_authorization_details")
                     .paginate(authorizationId=AUTH_ID))
        self.assertEqual([len(page["evaluations"]) for page in pages], [2, 2, 1])
        for page in pages:
            self.assertEqual(page["policies"], DETAILS["policies"])
            self.assertEqual(page["requestContext"], DETAILS["requestContext"])
        self.assertIn("nextToken", pages[0])
        self.assertNotIn("nextToken", pages[-1])
        self.assertEqual([e for page in pages for e in page["evaluations"]],
                         DETAILS["evaluations"])
        full = self.toolbox.get_paginator("get_request_authorization_details").paginate(
            authorizationId=AUTH_ID).build_full_result()
        self.assertEqual(full["evaluations"], DETAILS["evaluations"])
        tokens = [r["NextToken"] for r in self.requests()
                  if r["Operation"] == "GetRequestAuthorizationDetails"]
        self.assertEqual(tokens[:3], [None, pages[0]["nextToken"], pages[1]["nextToken"]])

    def test_bad_next_token_is_a_validation_error(self):
        self.assert_raises(self.toolbox.exceptions.ValidationException, "nextToken",
                           lambda: self.toolbox.get_request_authorization_details(
                               authorizationId=AUTH_ID, nextToken="bogus"))

    def test_policy_returns_the_seeded_document(self):
        for uri, document in POLICIES.items():
            answer = self.toolbox.get_request_authorization_policy(authorizationId=AUTH_ID,
                                                                   policyUri=uri)
            self.assertEqual(answer["policyDocument"], document)

    def test_unknown_authorization_or_policy_is_not_found(self):
        not_found = self.toolbox.exceptions.ResourceNotFoundException
        error = self.assert_raises(not_found, "do not exist",
                                   lambda: self.toolbox.get_request_authorization_details(
                                       authorizationId="unknown0"))
        self.assertEqual(error["Code"], "ResourceNotFoundException")
        self.assert_raises(not_found, "do not exist",
                           lambda: self.toolbox.get_request_authorization_policy(
                               authorizationId="unknown0", policyUri=DENY_URI))
        self.assert_raises(not_found, "arn:aws:iam::aws:policy/Other",
                           lambda: self.toolbox.get_request_authorization_policy(
                               authorizationId=AUTH_ID, policyUri="arn:aws:iam::aws:policy/Other"))

    def test_authorization_id_outside_the_model_pattern_is_a_validation_error(self):
        validation = self.toolbox.exceptions.ValidationException
        for bad in ("ABC123", "a-b", "a" * 257):
            with self.subTest(bad=bad[:10]):
                self.assert_raises(validation, "authorizationId",
                                   lambda: self.toolbox.get_request_authorization_details(
                                       authorizationId=bad))
        self.assert_raises(validation, "authorizationId",
                           lambda: self.toolbox.get_request_authorization_policy(
                               authorizationId="Upper", policyUri=DENY_URI))
        self.toolbox.get_request_authorization_details(authorizationId=AUTH_ID)  # still fine

    def test_seeded_faults_raise_the_modeled_exceptions(self):
        cases = [("NotFound", "ResourceNotFoundException", "do not exist"),
                 ("AccessDenied", "AccessDeniedException", "not authorized"),
                 ("Internal", "InternalServerException", "internal error")]
        for fault, name, message in cases:
            with self.subTest(fault=fault):
                self.control("authorizations", AuthorizationId=AUTH_ID, Details=DETAILS,
                             Policies=POLICIES, Fault=fault)
                exception = getattr(self.toolbox_once.exceptions, name)
                self.assert_raises(exception, message,
                                   lambda: self.toolbox_once.get_request_authorization_details(
                                       authorizationId=AUTH_ID))
                self.assert_raises(exception, message,
                                   lambda: self.toolbox_once.get_request_authorization_policy(
                                       authorizationId=AUTH_ID, policyUri=DENY_URI))
        self.control("authorizations", AuthorizationId=AUTH_ID, Details=DETAILS,
                     Fault={"Error": "AccessDenied", "Message": "User: x is not authorized"})
        self.assert_raises(self.toolbox_once.exceptions.AccessDeniedException,
                           "User: x is not authorized",
                           lambda: self.toolbox_once.get_request_authorization_details(
                               authorizationId=AUTH_ID))

    def test_throttling_is_retried_by_standard_mode_then_succeeds(self):
        self.control("authorizations", AuthorizationId=AUTH_ID, Details=DETAILS,
                     Policies=POLICIES, Fault={"ThrottleTimes": 2})
        answer = self.toolbox.get_request_authorization_details(authorizationId=AUTH_ID)
        self.assertEqual(answer["evaluations"], DETAILS["evaluations"])
        self.assertEqual(answer["ResponseMetadata"]["RetryAttempts"], 2)
        calls = [(r["Operation"], r["Status"], r.get("ErrorCode")) for r in self.requests()]
        self.assertEqual(calls, [("GetRequestAuthorizationDetails", 429, "ThrottlingException")] * 2
                         + [("GetRequestAuthorizationDetails", 200, None)])

    def test_throttling_without_retries_is_a_throttling_client_error(self):
        self.control("authorizations", AuthorizationId=AUTH_ID, Details=DETAILS,
                     Fault={"ThrottleTimes": 1})
        with self.assertRaises(ClientError) as caught:
            self.toolbox_once.get_request_authorization_policy(authorizationId=AUTH_ID,
                                                               policyUri=DENY_URI)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ThrottlingException")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 429)

    def test_global_fault_applies_to_every_toolbox_call(self):
        self.control("fault", Service="iam-toolbox", Fault="AccessDenied")
        for auth_id in (AUTH_ID, "unknown0"):
            self.assert_raises(self.toolbox_once.exceptions.AccessDeniedException,
                               "not authorized",
                               lambda: self.toolbox_once.get_request_authorization_details(
                                   authorizationId=auth_id))
        self.control("fault", Service="iam-toolbox", Fault=None)
        self.toolbox.get_request_authorization_details(authorizationId=AUTH_ID)

    # --- STS ------------------------------------------------------------------------------

    def test_decode_round_trips_the_message_exactly(self):
        answer = self.sts.decode_authorization_message(EncodedMessage=ENCODED)
        self.assertEqual(answer["DecodedMessage"], DECODED)
        self.assertFalse(json.loads(answer["DecodedMessage"])["allowed"])
        tricky = "a<b>&c\"d'e\r\nf\tñ→😀 ]]> &amp;"
        self.control("encoded-messages", EncodedMessage="tricky", DecodedMessage=tricky)
        self.assertEqual(self.sts.decode_authorization_message(EncodedMessage="tricky")
                         ["DecodedMessage"], tricky)
        [entry] = [r for r in self.requests() if r["EncodedMessagePrefix"] == ENCODED[:32]]
        self.assertEqual((entry["Operation"], entry["Status"]), ("DecodeAuthorizationMessage", 200))

    def test_unknown_message_is_invalid(self):
        exception = self.sts.exceptions.InvalidAuthorizationMessageException
        self.assert_raises(exception, "invalid",
                           lambda: self.sts.decode_authorization_message(EncodedMessage="nope"))
        self.control("encoded-messages", EncodedMessage=ENCODED, DecodedMessage=DECODED,
                     Fault="Invalid")
        self.assert_raises(exception, "invalid",
                           lambda: self.sts.decode_authorization_message(EncodedMessage=ENCODED))

    def test_decode_access_denied_is_a_403_access_denied(self):
        self.control("encoded-messages", EncodedMessage=ENCODED, DecodedMessage=DECODED,
                     Fault="AccessDenied")
        with self.assertRaises(ClientError) as caught:
            self.sts.decode_authorization_message(EncodedMessage=ENCODED)
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")
        self.assertEqual(caught.exception.response["Error"]["Type"], "Sender")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)

    def test_decode_throttling_is_retried_then_succeeds(self):
        self.control("encoded-messages", EncodedMessage=ENCODED, DecodedMessage=DECODED,
                     Fault={"ThrottleTimes": 2})
        answer = self.sts.decode_authorization_message(EncodedMessage=ENCODED)
        self.assertEqual(answer["DecodedMessage"], DECODED)
        self.assertEqual([r["Status"] for r in self.requests()], [400, 400, 200])
        self.control("encoded-messages", EncodedMessage=ENCODED, DecodedMessage=DECODED,
                     Fault={"ThrottleTimes": 1})
        with self.assertRaises(ClientError) as caught:
            self.sts_once.decode_authorization_message(EncodedMessage=ENCODED)
        self.assertEqual(caught.exception.response["Error"]["Code"], "Throttling")

    def test_other_sts_calls_are_answered_by_moto(self):
        iam = boto3.client("iam", endpoint_url=self.moto_url, **CREDENTIALS)
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "sts:AssumeRole",
             "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}]}
        name = f"standin-{time.time_ns()}"
        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
        assumed = self.sts.assume_role(RoleArn=role["Arn"], RoleSessionName="tests")
        self.assertEqual(assumed["AssumedRoleUser"]["Arn"],
                         f"arn:aws:sts::123456789012:assumed-role/{name}/tests")
        self.assertTrue(assumed["Credentials"]["AccessKeyId"])
        identity = self.sts.get_caller_identity()
        self.assertEqual(identity["Account"], "123456789012")
        forwarded = [(r["Operation"], r["Status"]) for r in self.requests() if r.get("Forwarded")]
        self.assertEqual(forwarded, [("AssumeRole", 200), ("GetCallerIdentity", 200)])
        assume = self.requests()[0]
        self.assertEqual((assume["RoleArn"], assume["RoleSessionName"]), (role["Arn"], "tests"))

    def test_global_sts_fault_applies_to_decode(self):
        self.control("fault", Service="sts", Fault={"ThrottleTimes": 1})
        self.assertEqual(self.sts.decode_authorization_message(EncodedMessage=ENCODED)
                         ["DecodedMessage"], DECODED)
        self.control("fault", Service="sts", Fault="AccessDenied")
        with self.assertRaises(ClientError) as caught:
            self.sts_once.decode_authorization_message(EncodedMessage=ENCODED)
        self.assertEqual(caught.exception.response["Error"]["Code"], "AccessDenied")

    # --- HTTP -----------------------------------------------------------------------------

    def test_keep_alive_and_expect_100_continue(self):
        host, port = self.url[len("http://"):].split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            for _ in range(2):   # both on one connection
                conn.request("GET",
                             f"/authorization-details/{AUTH_ID}/policy?policyUri={INLINE_URI}")
                answer = conn.getresponse()
                self.assertEqual(answer.status, 200)
                self.assertIsNotNone(answer.getheader("Content-Length"))
                self.assertEqual(json.loads(answer.read())["policyDocument"], POLICIES[INLINE_URI])
            body = urllib.parse.urlencode({"Action": "DecodeAuthorizationMessage",
                                           "Version": "2011-06-15", "EncodedMessage": ENCODED})
            conn.putrequest("POST", "/")
            conn.putheader("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
            conn.putheader("Content-Length", str(len(body)))
            conn.putheader("Expect", "100-continue")
            conn.endheaders()
            conn.send(body.encode())
            answer = conn.getresponse()
            self.assertEqual(answer.status, 200)
            self.assertIn(b"<DecodedMessage>", answer.read())
        finally:
            conn.close()

    def test_exits_when_stdin_closes(self):
        process, _ = start_standin(self.moto_url)
        try:
            process.stdin.close()
            self.assertEqual(process.wait(timeout=10), 0)
        finally:
            stop(process)

    def test_exits_on_sigterm(self):
        process, _ = start_standin(self.moto_url)
        try:
            process.terminate()
            self.assertEqual(process.wait(timeout=10), 0)
        finally:
            stop(process)


if __name__ == "__main__":
    unittest.main()
