//! The permission check itself: a call passes only with its action, its resource and its
//! partition keys granted by the calling function's own role.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use hiresync_localstack::permissions::check_calls;
use hiresync_localstack::recorder::AwsCall;
use hiresync_localstack::{Resources, Template};
use serde_json::json;

const TEMPLATE: &str = r#"
Resources:
  T:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{ AttributeName: pk, AttributeType: S }, { AttributeName: gpk, AttributeType: S }]
      KeySchema: [{ AttributeName: pk, KeyType: HASH }]
      GlobalSecondaryIndexes:
        - IndexName: by-g
          KeySchema: [{ AttributeName: gpk, KeyType: HASH }]
          Projection: { ProjectionType: KEYS_ONLY }
  Q:
    Type: AWS::SQS::Queue
  FnRole:
    Type: AWS::IAM::Role
    Properties:
      Policies:
        - PolicyName: p
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [dynamodb:GetItem, dynamodb:PutItem]
                Resource: !GetAtt T.Arn
                Condition:
                  ForAllValues:StringLike:
                    dynamodb:LeadingKeys: ["A#*"]
              - Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt Q.Arn
  Fn:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: fn } }
    Properties:
      Role: !GetAtt FnRole.Arn
  Other:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: other } }
    Properties: {}
"#;

fn check(calls: &[(&str, &str, serde_json::Value)]) -> Vec<String> {
    let template = Template::parse(TEMPLATE).unwrap();
    let mut resources = Resources::default();
    resources.tables.insert("T".into(), "local-T".into());
    resources
        .queues
        .insert("Q".into(), "http://sqs/000/local-Q".into());
    let calls: Vec<AwsCall> = calls
        .iter()
        .map(|(function, target, body)| AwsCall {
            function: (*function).into(),
            target: (*target).into(),
            body: body.clone(),
        })
        .collect();
    check_calls(&template, &resources, &calls)
}

#[test]
fn a_call_passes_only_with_its_action_resource_and_partition_keys() {
    let allowed = check(&[
        (
            "fn",
            "DynamoDB_20120810.GetItem",
            json!({"TableName": "local-T", "Key": {"pk": {"S": "A#1"}}}),
        ),
        (
            "fn",
            "AmazonSQS.SendMessageBatch",
            json!({"QueueUrl": "http://sqs/000/local-Q"}),
        ),
        (
            "fn",
            "DynamoDB_20120810.TransactWriteItems",
            json!({"TransactItems": [
                {"Put": {"TableName": "local-T", "Item": {"pk": {"S": "A#2"}}}}]}),
        ),
    ]);
    assert_eq!(allowed, Vec::<String>::new());

    let refused = check(&[
        // Another partition.
        (
            "fn",
            "DynamoDB_20120810.GetItem",
            json!({"TableName": "local-T", "Key": {"pk": {"S": "B#1"}}}),
        ),
        // One item of a transaction is enough.
        (
            "fn",
            "DynamoDB_20120810.TransactWriteItems",
            json!({"TransactItems": [
                {"Put": {"TableName": "local-T", "Item": {"pk": {"S": "A#2"}}}},
                {"Delete": {"TableName": "local-T", "Key": {"pk": {"S": "A#3"}}}}]}),
        ),
        // An index nobody granted, and a Scan.
        (
            "fn",
            "DynamoDB_20120810.Query",
            json!({"TableName": "local-T", "IndexName": "by-g",
                "KeyConditionExpression": "#k = :v", "ExpressionAttributeNames": {"#k": "gpk"},
                "ExpressionAttributeValues": {":v": {"S": "A#1"}}}),
        ),
        (
            "fn",
            "DynamoDB_20120810.Scan",
            json!({"TableName": "local-T"}),
        ),
        // A function without a role of its own.
        (
            "other",
            "AmazonSQS.SendMessage",
            json!({"QueueUrl": "http://sqs/000/local-Q"}),
        ),
    ]);
    assert_eq!(refused.len(), 5, "{refused:#?}");
    assert!(refused
        .iter()
        .any(|r| r.contains("GetItem") && r.contains("B#...")));
    assert!(refused.iter().any(|r| r.contains("DeleteItem")));
    assert!(refused.iter().any(|r| r.contains("Index(\"T\", \"by-g\")")));
    assert!(refused.iter().any(|r| r.contains("Scan")));
    assert!(refused
        .iter()
        .any(|r| r.contains("Other has no role of its own")));
}
