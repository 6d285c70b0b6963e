//! A local driver for the backfill state machine: it runs the steps of `template.yaml`'s
//! `BackfillStateMachine` definition itself, against moto and the function in process, so that
//! the contract between the map and the function is tested end to end — the `Pass` states
//! (`States.MathAdd`, `States.JsonMerge`), the Distributed Map's S3 item reader
//! (`ListObjectsV2` on moto's bucket), its item batcher (`MaxItemsPerBatchPath`, `BatchInput`),
//! each child run's Lambda task payload and `OutputPath`, the result writer's manifest and
//! result files (written to moto's S3 in the layout Step Functions writes), and the summary task.
//!
//! moto's Step Functions does not run Distributed Map, and this driver does not pretend to be
//! Step Functions: it interprets only what the definition uses and fails on anything else, so a
//! change to the definition must be matched here.

use access_undenied::lambda::Handler;
use serde_json::{json, Map, Value};

use crate::lambda_template::{load, resources};
use crate::support::lambda::{
    backfill_handler, create_table, gz, put_objects, scan, trail_key, TABLE,
};
use crate::support::{self, root};

const TRAIL: &str = "org-trail";
const RESULTS: &str = "backfill-results";
const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:access-undenied";

/// The definition with the stack's substitutions made (`ObjectsPerBatch` 2, so that the trail
/// below makes several batches; the other parameters at their defaults).
fn definition() -> Value {
    let t = load("template.yaml");
    let sm = &resources(&t)["BackfillStateMachine"]["Properties"];
    let default = |p: &str| t["Parameters"][p]["Default"].clone();
    let text = |v: Value| match v {
        Value::String(s) => s,
        other => other.to_string(),
    };
    let subs: Vec<(String, String)> = sm["DefinitionSubstitutions"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| {
            let v = match k.as_str() {
                "FunctionArn" => FUNCTION.to_string(),
                "TrailBucket" => TRAIL.to_string(),
                "ResultsBucket" => RESULTS.to_string(),
                "TrailKeyPrefix" => text(default("TrailKeyPrefix")),
                "ObjectsPerBatch" => "2".to_string(),
                "MaxConcurrency" => text(default("BackfillMaxConcurrency")),
                "ToleratedFailurePercentage" => text(default("BackfillToleratedFailurePercentage")),
                other => panic!("the driver does not know the substitution {other}"),
            };
            (format!("${{{k}}}"), v)
        })
        .collect();
    fn substitute(v: &Value, subs: &[(String, String)]) -> Value {
        match v {
            Value::String(s) => {
                let mut s = s.clone();
                for (k, v) in subs {
                    s = s.replace(k, v);
                }
                Value::String(s)
            }
            Value::Array(a) => Value::Array(a.iter().map(|x| substitute(x, subs)).collect()),
            Value::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), substitute(x, subs)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    substitute(&sm["Definition"], &subs)
}

/// `$`, `$.a.b` of `data`, `$$.a.b` of `context`.
fn path(data: &Value, context: &Value, p: &str) -> Value {
    let (root, rest) = match p.strip_prefix("$$") {
        Some(rest) => (context, rest),
        None => (data, p.strip_prefix('$').expect("a path")),
    };
    rest.split('.')
        .filter(|s| !s.is_empty())
        .fold(root.clone(), |v, seg| v[seg].clone())
}

/// The intrinsic functions and paths the definition uses.
fn value_of(expr: &str, data: &Value, context: &Value) -> Value {
    if let Some(args) = expr
        .strip_prefix("States.MathAdd(")
        .and_then(|a| a.strip_suffix(')'))
    {
        let n: Vec<i64> = args.split(',').map(|x| x.trim().parse().unwrap()).collect();
        return json!(n[0] + n[1]);
    }
    if let Some(args) = expr
        .strip_prefix("States.JsonMerge(")
        .and_then(|a| a.strip_suffix(')'))
    {
        let args: Vec<&str> = args.split(',').map(str::trim).collect();
        assert_eq!(args[2], "false", "only a shallow merge is known");
        let mut merged = path(data, context, args[0]);
        for (k, v) in path(data, context, args[1]).as_object().unwrap() {
            merged[k] = v.clone();
        }
        return merged;
    }
    assert!(expr.starts_with('$'), "the driver does not know `{expr}`");
    path(data, context, expr)
}

/// A `Parameters` block evaluated against `data`.
fn evaluate(params: &Value, data: &Value, context: &Value) -> Value {
    match params {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, v) in o {
                match k.strip_suffix(".$") {
                    Some(name) => {
                        out.insert(
                            name.to_string(),
                            value_of(v.as_str().unwrap(), data, context),
                        );
                    }
                    None => {
                        out.insert(k.clone(), evaluate(v, data, context));
                    }
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The map's items: moto's `ListObjectsV2`, every page, as Step Functions' S3 reader gives them.
async fn list(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        for o in page.contents() {
            items.push(json!({
                "Key": o.key().unwrap(),
                "Size": o.size().unwrap_or(0),
                "Etag": o.e_tag().unwrap_or_default(),
                "LastModified": o.last_modified().map(|t| t.to_string()),
                "StorageClass": "STANDARD"
            }));
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return items;
        }
    }
}

/// One Lambda task: the payload of its `Parameters`, the function's answer as `Payload`, the
/// task's `OutputPath`.
async fn lambda_task(state: &Value, data: &Value, context: &Value, h: &Handler) -> Value {
    assert_eq!(state["Resource"], "arn:aws:states:::lambda:invoke");
    let params = evaluate(&state["Parameters"], data, context);
    assert_eq!(params["FunctionName"], FUNCTION);
    let answer = h.handle(params["Payload"].clone()).await.unwrap();
    let result = json!({"StatusCode": 200, "Payload": answer});
    match state["OutputPath"].as_str() {
        Some(p) => path(&result, context, p),
        None => result,
    }
}

/// Runs the map state: reader, batcher, child runs, result writer; returns the map's output.
async fn run_map(
    state: &Value,
    data: &Value,
    context: &Value,
    h: &Handler,
    s3: &aws_sdk_s3::Client,
) -> (Value, usize) {
    let processor = &state["ItemProcessor"];
    assert_eq!(processor["ProcessorConfig"]["Mode"], "DISTRIBUTED");
    let reader = &state["ItemReader"];
    assert_eq!(reader["Resource"], "arn:aws:states:::s3:listObjectsV2");
    let rp = evaluate(&reader["Parameters"], data, context);
    let items = list(
        s3,
        rp["Bucket"].as_str().unwrap(),
        rp["Prefix"].as_str().unwrap(),
    )
    .await;
    let batcher = &state["ItemBatcher"];
    let per_batch = path(
        data,
        context,
        batcher["MaxItemsPerBatchPath"].as_str().unwrap(),
    )
    .as_u64()
    .unwrap() as usize;
    let batch_input = evaluate(&batcher["BatchInput"], data, context);
    let mut runs = Vec::new();
    for (n, chunk) in items.chunks(per_batch).enumerate() {
        let child_input = json!({"BatchInput": batch_input, "Items": chunk});
        let mut child_data = child_input.clone();
        let mut at = processor["StartAt"].as_str().unwrap().to_string();
        loop {
            let st = &processor["States"][&at];
            assert_eq!(st["Type"], "Task");
            child_data = lambda_task(st, &child_data, context, h).await;
            match st["Next"].as_str() {
                Some(next) => at = next.to_string(),
                None => break,
            }
        }
        runs.push(json!({
            "ExecutionArn": format!("arn:aws:states:us-east-1:123456789012:execution:backfill/Backfill:{n}"),
            "Input": child_input.to_string(),
            "Output": child_data.to_string(),
            "Status": "SUCCEEDED"
        }));
    }
    // The result writer: <Prefix>/<map run id>/SUCCEEDED_0.json and manifest.json.
    let rw = evaluate(&state["ResultWriter"]["Parameters"], data, context);
    assert_eq!(
        state["ResultWriter"]["Resource"],
        "arn:aws:states:::s3:putObject"
    );
    let bucket = rw["Bucket"].as_str().unwrap();
    let dir = format!("{}/run-1", rw["Prefix"].as_str().unwrap());
    let results = serde_json::to_vec(&runs).unwrap();
    let size = results.len();
    let put = |key: String, body: Vec<u8>| {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(body.into())
            .send()
    };
    put(format!("{dir}/SUCCEEDED_0.json"), results)
        .await
        .unwrap();
    let manifest = json!({
        "DestinationBucket": bucket,
        "MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:backfill/Backfill:run-1",
        "ResultFiles": {"FAILED": [], "PENDING": [],
                        "SUCCEEDED": [{"Key": format!("{dir}/SUCCEEDED_0.json"), "Size": size}]}
    });
    put(
        format!("{dir}/manifest.json"),
        manifest.to_string().into_bytes(),
    )
    .await
    .unwrap();
    let output = json!({
        "MapRunArn": manifest["MapRunArn"],
        "ResultWriterDetails": {"Bucket": bucket, "Key": format!("{dir}/manifest.json")}
    });
    (output, runs.len())
}

#[tokio::test]
async fn the_state_machine_backfills_the_trail_through_the_function() {
    let _env = support::moto().await;
    let config = support::config().await;
    let ddb = create_table(&config, TABLE).await;
    // analyze_s3's trail (2026-11-20 in two accounts, 2026-11-21, a digest file), plus a day
    // before the range asked for: listed, not read.
    let s3 = crate::analyze_s3::trail().await;
    s3.create_bucket().bucket(RESULTS).send().await.unwrap();
    let batch = std::fs::read_to_string(root().join("events/sample-batch.json")).unwrap();
    let old = trail_key("111122223333", "us-east-1", "2026-11-19", "old.json.gz");
    put_objects(&s3, TRAIL, vec![(old, gz(&batch))]).await;
    let (h, notifier) = backfill_handler(&config, &s3);

    // The README's start-execution input.
    let input = json!({"Prefix": "AWSLogs/o-exampleorg/", "Since": "2026-11-20",
                       "Accounts": ["111122223333"]});
    let context = json!({"Execution": {"Input": input}});
    let def = definition();
    let mut data = input.clone();
    let mut at = def["StartAt"].as_str().unwrap().to_string();
    let mut batches = 0;
    loop {
        let st = &def["States"][&at];
        data = match st["Type"].as_str().unwrap() {
            "Pass" => {
                let out = evaluate(&st["Parameters"], &data, &context);
                match st["OutputPath"].as_str() {
                    Some(p) => path(&out, &context, p),
                    None => out,
                }
            }
            "Map" => {
                let (out, n) = run_map(st, &data, &context, &h, &s3).await;
                batches = n;
                let result_path = st["ResultPath"].as_str().unwrap();
                let name = result_path.strip_prefix("$.").unwrap();
                let mut d = data.clone();
                d[name] = out;
                d
            }
            "Task" => lambda_task(st, &data, &context, &h).await,
            other => panic!("the driver does not know a {other} state"),
        };
        match st["Next"].as_str() {
            Some(next) => at = next.to_string(),
            None => break,
        }
    }

    // 5 listed objects in batches of 2; 2 of them in the range and accounts asked for.
    assert_eq!(batches, 3);
    let s = &data["BackfillSummary"];
    assert_eq!(s["Batches"], 3, "{data:#}");
    assert_eq!(s["Counts"]["Objects"], 2, "{data:#}");
    assert_eq!(s["Counts"]["ObjectsSkipped"], 3);
    // sample-batch.json: 5 readable denials (+1 unreadable); the troubleshooter denial: 1.
    assert_eq!(s["Counts"]["Denials"], 6);
    assert_eq!(s["Counts"]["Unreadable"], 1);
    let stored = scan(&ddb, TABLE).await;
    let events = stored.keys().filter(|k| !k.starts_with("FINDING#")).count();
    assert_eq!(events, 6, "{:?}", stored.keys().collect::<Vec<_>>());
    // No alert; one summary, on the alerts topic.
    assert!(notifier.sent().is_empty());
    let summaries = notifier.summaries();
    assert_eq!(summaries.len(), 1);
    assert_eq!(
        summaries[0].0,
        "Access Undenied backfill: 6 denials in 2 objects"
    );
    assert!(
        summaries[0]
            .1
            .contains("s3://backfill-results/backfill/run-1/manifest.json"),
        "{}",
        summaries[0].1
    );
}
