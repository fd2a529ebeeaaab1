//! "How to export": the exact commands, one combined command, and the read-only IAM actions.

use super::common::Command;
use yew::prelude::*;

const COMMANDS: &[(&str, &str)] = &[
    ("network interfaces (required)", "aws ec2 describe-network-interfaces --output json > enis.json"),
    ("security groups (required)", "aws ec2 describe-security-groups --output json > sgs.json"),
    ("network acls (optional)", "aws ec2 describe-network-acls --output json > nacls.json"),
    ("subnets (optional: cidrs for fixes)", "aws ec2 describe-subnets --output json > subnets.json"),
    ("instances (optional: types and names)", "aws ec2 describe-instances --output json > instances.json"),
    ("a prefix list's entries (optional, labelled)", "aws ec2 get-managed-prefix-list-entries --prefix-list-id pl-XXXX --query '{PrefixListId: `pl-XXXX`, Entries: Entries}' --output json > pl-XXXX.json"),
    ("pods (optional: pods and workloads)", "kubectl get pods -A -o json > pods.json"),
    ("nodes (optional: node names)", "kubectl get nodes -o json > nodes.json"),
];

const COMBINED: &str = "{ aws ec2 describe-network-interfaces --output json; aws ec2 describe-security-groups --output json; aws ec2 describe-network-acls --output json; aws ec2 describe-subnets --output json; kubectl get pods -A -o json; kubectl get nodes -o json; } > podreach-export.json";

const IAM: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Effect": "Allow",
    "Action": [
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeSecurityGroups",
      "ec2:DescribeSecurityGroupRules",
      "ec2:DescribeNetworkAcls",
      "ec2:DescribeSubnets",
      "ec2:DescribeInstances",
      "ec2:DescribeManagedPrefixLists",
      "ec2:GetManagedPrefixListEntries"
    ],
    "Resource": "*"
  }]
}"#;

#[component]
pub fn HowToExport() -> Html {
    html! {
        <details class="help" data-testid="how-to-export">
            <summary>{ "How to export (read-only; nothing needs credentials here)" }</summary>
            <p>{ "Run these where you have AWS and kubectl access, then drop the files here or paste their output. Several documents in one file are fine." }</p>
            <h3>{ "All at once" }</h3>
            <Command command={COMBINED} />
            <h3>{ "One by one" }</h3>
            <ul class="commands">
                { for COMMANDS.iter().map(|(what, cmd)| html! {
                    <li><span class="what">{ *what }</span><Command command={*cmd} /></li>
                }) }
            </ul>
            <h3>{ "Minimal IAM policy (read-only)" }</h3>
            <Command command={IAM} />
            <p class="note">{ "Always use --output json: table, text and yaml output cannot be read (the page says so if you paste one)." }</p>
        </details>
    }
}
