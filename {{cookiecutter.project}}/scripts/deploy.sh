#!/usr/bin/env bash
# Deploy or delete one stage's CloudFormation stack; `make deploy` / `make destroy` call this.
# usage: scripts/deploy.sh deploy STAGE [DIST]   (DIST holds sam.json + deployment.zip from `make package`)
#        scripts/deploy.sh destroy STAGE          (STAGE=prod needs CONFIRM=prod in the environment)
# Uses the AWS CLI (cloudformation package + deploy); falls back to the SAM CLI when `aws` is absent.
# Progress goes to stderr; the deploy functions print only the API URL on stdout.
# Before anything runs it checks, in order, and stops at the first one missing with one line and exit 1:
# a CLI (aws, else sam), a region (AWS_REGION, else AWS_DEFAULT_REGION, else the one this service was
# generated for), the package to deploy, then (AWS CLI) credentials that AWS accepts and the account id
# they belong to, which names the artifact bucket. SAM checks credentials itself and finds its own bucket.
set -euo pipefail
shopt -s inherit_errexit  # a failing command inside $(...) stops the script too

action=${1:?usage: deploy.sh deploy|destroy STAGE [DIST]}
stage=${2:?usage: deploy.sh deploy|destroy STAGE [DIST]}
dist=${3:-dist}
project="{{ cookiecutter.project }}"
default_region="{{ cookiecutter.aws_region }}"
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$default_region}}
stack="$project-$stage"
capabilities=(CAPABILITY_IAM CAPABILITY_AUTO_EXPAND)

stop() { echo "deploy.sh: $*" >&2; exit 1; }

if command -v aws >/dev/null 2>&1; then cli=aws
elif command -v sam >/dev/null 2>&1; then cli=sam
else stop "neither the AWS CLI (aws) nor the SAM CLI (sam) is on PATH: install one (https://aws.amazon.com/cli/)"
fi
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] \
  || stop "'$region' is not an AWS region name: set AWS_REGION (e.g. AWS_REGION=$default_region)"

# The account id the credentials belong to (AWS CLI only); stops when there are none or AWS refuses them.
caller_account() {
  local answer status=0 last
  answer=$(aws sts get-caller-identity --query Account --output text --region "$region" 2>&1) || status=$?
  last=${answer##*$'\n'}  # the account id, or the CLI's reason for failing (after any warnings)
  last=${last#"${last%%[![:space:]]*}"}
  ((status == 0)) || stop "AWS does not accept the credentials ($last): run aws configure, or set AWS_PROFILE"
  [[ $last =~ ^[0-9]{12}$ ]] || stop "AWS gave no account id for these credentials (got '$last'): check AWS_PROFILE"
  echo "$last"
}

deploy_with_aws() {
  local bucket
  bucket=${ARTIFACT_BUCKET:-$project-artifacts-$account-$region}
  aws s3api head-bucket --bucket "$bucket" --region "$region" 2>/dev/null \
    || aws s3 mb "s3://$bucket" --region "$region" >&2
  aws cloudformation package --template-file "$dist/sam.json" --s3-bucket "$bucket" --s3-prefix "$stack" \
    --output-template-file "$dist/packaged.yaml" --region "$region" >&2
  aws cloudformation deploy --template-file "$dist/packaged.yaml" --stack-name "$stack" \
    --capabilities "${capabilities[@]}" --parameter-overrides "Stage=$stage" \
    --s3-bucket "$bucket" --s3-prefix "$stack" --no-fail-on-empty-changeset --region "$region" >&2
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" \
    --query "Stacks[0].Outputs[?OutputKey=='EndpointURL'].OutputValue" --output text
}

deploy_with_sam() {
  sam deploy --template-file "$dist/sam.json" --stack-name "$stack" --resolve-s3 --s3-prefix "$stack" \
    --capabilities "${capabilities[@]}" --parameter-overrides "Stage=$stage" \
    --no-fail-on-empty-changeset --region "$region" >&2
  sam list stack-outputs --stack-name "$stack" --output json --region "$region" \
    | python3 -c 'import json, sys; print(next(o["OutputValue"] for o in json.load(sys.stdin) if o["OutputKey"] == "EndpointURL"))'
}

case "$action" in
  deploy)
    [[ -f $dist/sam.json ]] || stop "no $dist/sam.json: build it first with make package STAGE=$stage"
    if [[ $cli == aws ]]; then account=$(caller_account); fi
    echo "==> deploying $stack to $region with the $cli CLI"
    url=$("deploy_with_$cli")
    echo "==> $stack is deployed. API URL: $url"
    ;;
  destroy)
    if [[ "$stage" == prod && "${CONFIRM:-}" != prod ]]; then
      stop "deleting prod deletes its tables; run with CONFIRM=prod to do it"
    fi
    if [[ $cli == aws ]]; then caller_account >/dev/null; fi
    echo "==> deleting $stack in $region with the $cli CLI"
    if [[ $cli == aws ]]; then
      aws cloudformation delete-stack --stack-name "$stack" --region "$region"
      aws cloudformation wait stack-delete-complete --stack-name "$stack" --region "$region"
    else
      sam delete --stack-name "$stack" --no-prompts --region "$region"
    fi
    echo "==> $stack deleted"
    ;;
  *) echo "deploy.sh: unknown action $action: use deploy or destroy" >&2; exit 2 ;;
esac
