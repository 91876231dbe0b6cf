#!/usr/bin/env bash
# Deploy or delete one stage's CloudFormation stack; `make deploy` / `make destroy` call this.
# usage: scripts/deploy.sh deploy STAGE [DIST]   (DIST holds sam.json + deployment.zip from `make package`)
#        scripts/deploy.sh destroy STAGE          (STAGE=prod needs CONFIRM=prod in the environment)
# Uses the AWS CLI (cloudformation package + deploy); falls back to the SAM CLI when `aws` is absent.
# Progress goes to stderr; the deploy functions print only the API URL on stdout.
# Needs credentials for the target account; the region comes from AWS_REGION / AWS_DEFAULT_REGION.
set -euo pipefail

action=${1:?usage: deploy.sh deploy|destroy STAGE [DIST]}
stage=${2:?usage: deploy.sh deploy|destroy STAGE [DIST]}
dist=${3:-dist}
project="{{ cookiecutter.project }}"
default_region="{{ cookiecutter.aws_region }}"
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$default_region}}
stack="$project-$stage"
capabilities=(CAPABILITY_IAM CAPABILITY_AUTO_EXPAND)

if command -v aws >/dev/null 2>&1; then cli=aws
elif command -v sam >/dev/null 2>&1; then cli=sam
else echo "deploy.sh: neither the AWS CLI (aws) nor the SAM CLI (sam) is on PATH" >&2; exit 1
fi

deploy_with_aws() {
  local account bucket
  account=$(aws sts get-caller-identity --query Account --output text)
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
    echo "==> deploying $stack to $region with the $cli CLI"
    url=$("deploy_with_$cli")
    echo "==> $stack is deployed. API URL: $url"
    ;;
  destroy)
    if [[ "$stage" == prod && "${CONFIRM:-}" != prod ]]; then
      echo "deploy.sh: deleting prod deletes its tables; run with CONFIRM=prod to do it" >&2; exit 1
    fi
    echo "==> deleting $stack in $region with the $cli CLI"
    if [[ $cli == aws ]]; then
      aws cloudformation delete-stack --stack-name "$stack" --region "$region"
      aws cloudformation wait stack-delete-complete --stack-name "$stack" --region "$region"
    else
      sam delete --stack-name "$stack" --no-prompts --region "$region"
    fi
    echo "==> $stack deleted"
    ;;
  *) echo "deploy.sh: unknown action $action (deploy|destroy)" >&2; exit 2 ;;
esac
