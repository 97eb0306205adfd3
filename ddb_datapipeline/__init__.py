"""Back up, restore and copy DynamoDB tables with AWS Data Pipeline, declared with the AWS CDK."""
