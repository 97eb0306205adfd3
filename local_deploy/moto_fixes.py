"""Fixes applied to moto inside the emulator process that ``make deploy-local`` starts.

moto 5.2.5 gets eleven things wrong that this project's deploy depends on, is slow at things the deploy and the
drill lean on, and cannot read the drill's items back from an export. Each of fixes 1 to 11 and 14 makes moto behave as
AWS documents, fixes 12, 13 and 15 to 26 make it answer faster. Each
applies only in the emulator process (never in the app; in the tests' own process only fixes 7 to 10, by
the tests that run the native state machines on moto's interpreter, with 21 to 23, 25 and 26 for speed), and is checked against
the pinned moto version so an upgrade that changes the patched code fails loudly instead of silently
testing something else:

1. ``AWS::KMS::Key`` with ``Tags``: moto passes CloudFormation's ``{Key, Value}`` tags to the KMS API's
   tagger, which expects ``{TagKey, TagValue}``, and crashes (HTTP 500). The SDK then retries the
   CreateStack, which fails with a misleading "already exists".
2. ``AWS::DataPipeline::Pipeline``: moto keeps only ``PipelineObjects``. It drops ``PipelineTags``,
   ``Description``, ``ParameterObjects`` and ``ParameterValues``, cannot update a pipeline (the
   resource silently vanishes from the stack) and does not delete it with the stack.
3. ``GetPipelineDefinition``/``PutPipelineDefinition`` ignore parameter objects and values.
4. A resource that fails makes CreateStack/UpdateStack answer HTTP 500 with no event. CloudFormation
   instead reports a ``CREATE_FAILED``/``UPDATE_FAILED`` event naming the resource and leaves the stack
   in ``ROLLBACK_COMPLETE`` (create) or a failed state (update). The fix records the same events, so
   the CDK CLI names the stack and the resource that failed.
5. ``AWS::S3::BucketPolicy`` is not modelled (skipped with a warning), so no bucket gets its TLS-only
   policy. The fix stores the policy as PutBucketPolicy does. moto's own bucket-policy enforcement
   ignores request context and treats a statement whose ``Condition`` does not match as a denial, so
   the TLS-only deny would refuse every object call (the CDK CLI's template upload first). The fix lets a
   conditional statement apply only when moto can know its condition holds, i.e. never: conditions
   are judged by AWS, not by this emulator.
6. ``Fn::GetStackOutput`` (what CDK writes for a reference between two stacks of one account and region
   with ``"@aws-cdk/core:defaultCrossStackReferences": "weak"``) is unknown to moto, which passes the
   object through unresolved: a table stack's pipeline would name ``{"Fn::GetStackOutput": ...}`` as its
   bucket. The fix reads the named output of the named stack, as CloudFormation does, and fails the
   resource when that stack or output does not exist.
7. ``ExportTableToPointInTime``: moto names an export ``table/<the table's whole ARN>/import/<id>`` and
   writes its file under a folder of another, random id, with no manifest. DynamoDB names it
   ``table/<table>/export/<export id>`` and writes ``<prefix>/AWSDynamoDB/<export id>/`` with
   ``manifest-summary.json``, ``manifest-files.json`` and ``data/<file>.json.gz`` (DynamoDB Developer
   Guide, "DynamoDB table export output format"), so a state machine that finds the export's folder from
   its ARN, as a native copy does, fails on moto alone. The fix names and lays out the export as DynamoDB does.
8. JSONata: moto's Step Functions interpreter parses ``QueryLanguage: JSONata`` states but ships without
   an evaluator (its ``_eval_jsonata`` stays ``None``, a TypeError on the first expression). The fix plugs
   in jsonata-python, a port of the JSONata reference implementation, so the native engine's date
   arithmetic (an incremental export's window) runs as Step Functions runs it.
9. AWS SDK integrations of services whose API names members in camelCase (Step Functions' own, for one):
   Step Functions takes and returns them in PascalCase ("StateMachineArn", "Executions"; Step Functions
   Developer Guide, "AWS SDK service integrations", API naming conventions). moto hands the task's
   parameters to boto3 as they are, which refuses them. The fix renames the members of the request and
   of the response along the operation's shapes (map keys, which are data, are left alone). moto also
   names S3's errors ``s3.NoSuchKeyException`` where Step Functions says ``S3.NoSuchKeyException``
   (the same guide's error names: service and error in PascalCase), returns an object's ``Body`` as
   the stream's Python name rather than its text, and ignores a Task's ``Credentials`` (the call is made
   in the machine's account, not as the role named, in that role's account); the fix names the errors,
   reads the text and makes the call as the role it assumes.
10. EventBridge rules whose target is a Step Functions state machine: moto raises NotImplementedError
    for the event (its put_events answers HTTP 500). EventBridge starts an execution with the event, or
    the part of it the target's ``InputPath`` selects (EventBridge User Guide, "Transforming target
    input"), so a native copy into another region, whose import machine is started by a rule, never
    imports on moto alone. The fix starts the execution in the machine's account and region.
11. ``Ref`` of an ``AWS::Events::EventBus`` resolves to moto's Python object instead of the bus's name
    (CloudFormation User Guide, AWS::Events::EventBus, return values: Ref gives the name), so a rule on a
    bus of its own stack (``EventBusName: {"Ref": ...}``) fails to create. The fix gives the bus its name
    as physical id.
12. Speed, not behaviour: moto 5.2 writes every response by walking the operation's output shape member
    by member, which for ``Scan``, ``Query``, ``GetItem`` and ``BatchGetItem`` is most of the emulator's
    time (two thirds of its samples in a ``make drill-local`` profiled with py-spy). Their items are
    plain JSON already, so the fix writes them with ``json.dumps`` (binary values in base64, as the shape
    walk writes them); the status and headers still come from moto's serializer, run on the answer
    without its items. A test shows both ways give the same JSON for items of every type.
13. Speed, not behaviour: moto 5.2 builds every written item (PutItem, each request of BatchWriteItem) into a
    ``LimitedSizeDict`` whose every insert sums the size of all the attributes inserted before it, so an item
    of n attributes costs n(n+1)/2 size walks (about 0.6 ms for one of the drill's 16-attribute items, ten
    times the rest of building it; measured here). Sizes are never negative, so the last insert's sum, the
    whole item's size, is the only one that can cross the 405,000-byte limit first: the fix sums it once and
    raises the same ``ItemSizeTooLarge`` when it does, then fills the same ``LimitedSizeDict`` (later updates
    still check each insert) as moto's own ``Item.__deepcopy__`` fills it. A test shows both ways build equal
    items and refuse the same oversized one.
14. ``ImportTable`` reads its files with py_partiql_parser's ``JsonParser``, which finds no item at all in the
    drill's generated items (two lines of them: none; 2,000: a RecursionError; measured here) and then reports the
    import COMPLETED with 0 items and 0 errors, so a restore or copy "succeeds" into an empty table. DynamoDB reads
    DynamoDB JSON input as one ``{"Item": {...}}`` object per line (DynamoDB Developer Guide, "Import from Amazon
    S3: formats"); the fix reads each line with ``json.loads``, counting a line it cannot read or put as an error,
    as moto counts a failed put, and otherwise creates the table and fills it as moto does.
15. Speed, not behaviour: moto 5.2's ``DynamoType.size`` wraps every member of a set and every value of a map in a
    new ``DynamoType`` (which copies a nested list or map whole) just to measure it, and a Scan measures each item it
    returns twice, a write once (fix 13). The fix measures the same way without building anything: the same bytes
    for every type (a test compares both on the drill's items, every DynamoDB type, nested).
16. Speed, not behaviour: moto 5.2 turns every item a DynamoDB operation returns into plain values with
    ``dynamo_to_dict``, a generic walk that asks each string whether it has a ``to_json``; about a fifth of the
    emulator's time in ``make drill-local`` (Scan answers; py-spy, measured here). The fix walks attribute values by
    their type and hands anything else to moto's own function (a test shows the same result for Scan answers with
    items of every type, timestamps and nested values).
17. Speed, not behaviour: moto 5.2 reads every DynamoDB request along the API's shapes, and an ``AttributeValue``
    is a structure of ten members that the walk looks up one by one for each value (BatchWriteItem: an eighth of
    the emulator's time in the drill; py-spy, measured here). The fix reads a well-formed value (one member) as the
    walk does (binary from base64, everything else as sent) and leaves any other to moto's walk (a test shows the
    same parameters for BatchWriteItem requests of the drill's items and for malformed values).
18. Speed, not behaviour: a Scan or Query copies every item it returns (``copy.deepcopy``), and moto 5.2's own
    ``__deepcopy__`` of an item and of an attribute value hands each nested value back to ``copy.deepcopy``, whose
    dispatch and keep-alive bookkeeping cost more than the copy. The fix copies nested attribute values directly,
    the same way (same types, same memo, lists and maps copied, sets as new lists, scalars shared); a test shows the
    copies equal and independent of the items copied.
19. Speed, not behaviour: moto 5.2 reads every CloudFormation template (CreateStack, UpdateStack, change sets,
    ValidateTemplate) with PyYAML's pure-Python loader, JSON ones too, which CDK writes; about 2.7 CPU-s of the
    emulator's in a first local deploy of cdk.json's stacks (py-spy, measured here). A JSON template is read with
    ``json.loads`` instead, its numbers and constants given PyYAML's own reading of the same plain scalar (YAML 1.1
    reads ``1e5`` as a string, ``1.5e+3`` as a float); a text with what PyYAML reads otherwise than JSON (a
    surrogate escape, a non-printable character, a YAML line break inside a string) or that is not JSON goes to
    moto's own loader. A test shows the same result as moto's loader for the deployed templates and those cases.
20. Speed, not behaviour: moto 5.2 generates an RSA private key for every KMS key it creates (a 2,048-bit one for a
    symmetric key, whose private key no call ever uses): 0.1 to 0.3 CPU-s a key, about 2 CPU-s of a first local deploy
    (py-spy, measured here). The fix generates it, as moto would, when a call first uses it (Sign, Verify,
    GetPublicKey); a test shows a signature made and checked and a public key read as without the fix.
21. Speed, not behaviour: botocore reads its 1.2 MB ``endpoints.json`` again for every session, and moto makes six
    sessions in the emulator (three while importing its EC2 models, one per backend region list, one for its error
    answers, one for the Step Functions tasks' clients; counted here), 0.1 to 0.15 CPU-s each. The fix reads the file
    once per process and hands every session the same data, as botocore already hands it to every client of one
    session (its ``EndpointResolver`` reads the data and never changes it: botocore/regions.py, read). A test shows
    a second session's regions and endpoints the same, without reading the file again.
22. Speed, not behaviour: botocore reads a service's model (``service-2``, ``endpoint-rule-set-1``, paginators) again
    for every session: each ``mock_aws`` gives boto3 a new default session, and the Step Functions tasks make their
    clients from it, so the tests that run the native state machines read DynamoDB's, S3's, SNS's, SQS's and Step
    Functions' models again in every test (about 2 CPU-s of the module's 11 outside its synth; measured here). The fix
    reads each once per process and hands every session the same data, as botocore already hands one session's data
    to all its clients (``Loader.load_service_model`` is an ``instance_cache``: botocore/loaders.py, read); a loader
    with other data paths or extras reads its own. A test shows a second session's models, endpoint rules and a
    client's request the same, without reading the files again.
23. Speed, not behaviour: moto 5.2 validates a definition at CreateStateMachine and UpdateStateMachine by parsing it
    whole (ANTLR's pure-Python parser, then its preprocessor) and throws the result away; it parses it again for each
    execution. The tests that run the native state machines create the same few definitions in test after test
    (a new ``mock_aws`` each). A text moto accepted is accepted again without parsing it (a parse depends on the text
    alone: moto/stepfunctions/parser/models.py and asl/parse/asl_parser.py, read); a refused one is parsed every time,
    so its error is moto's own. Executions parse their definition (from a kept parse tree: fix 25). A test shows the same definitions accepted
    and the same error for a refused one, with and without the fix, and a second create that does not parse.
24. Speed, not behaviour: moto's server asks, for every request, whether the request's host names one of its service
    packages, by listing moto's package folder and asking the file system whether each entry is a folder (about 200
    ``isdir`` calls a request whose host is an AWS endpoint, which never matches; 1.2 CPU-s of the emulator's in
    tests/integration/test_local_deploy.py, py-spy, measured here). The folder is moto's installed package, which does
    not change while the server runs; the fix lists it once per process and answers each call with the same names in
    the same order (moto/backends.py and moto_server/werkzeug_app.py, read). A test shows the same names as moto's own
    listing, and the server's answer to a host that names a package and to one that does not.
25. Speed, not behaviour: moto 5.2 parses a definition again for every execution (``ExecutionWorker.
    _get_evaluation_entrypoint``): ANTLR's pure-Python lexer and parser, about two thirds of a parse, then its
    preprocessor, which builds the program's components from the parse tree. The tests that run the native state
    machines and the drill run the same few definitions again and again. The fix keeps the parse tree of each text it
    parsed (the tree depends on the text alone, and the preprocessor and moto's static analyser only read it:
    moto/stepfunctions/parser/asl/parse/asl_parser.py and preprocessor.py, read) and runs the preprocessor again for
    every call, so each execution still gets components of its own (they keep per-component keys into the execution's
    heap: asl/component/eval_component.py). A text the parser refuses is never kept, so its error is moto's own. A test
    shows the same executions with and without the fix, and a second execution that does not parse.
26. Speed, not behaviour: moto 5.2 makes a new boto3 client for every task of a state machine that calls another
    service (``boto_client_for`` in asl/utils/boto_client.py: an AWS SDK task, SNS Publish, EventBridge PutEvents, ...),
    about 4 ms of CPU each (it builds the client's class, its event handlers and its endpoint resolver again): 129
    clients, 0.57 CPU-s, in tests/integration/test_native_state_machine.py (measured here). The client it makes depends only on the
    region, the service, whether moto intercepts boto3's calls in this process and the server's port (the credentials,
    the retries and the timeouts are constants there, and it ignores ``state_credentials``: read); boto3's clients are
    safe to share between threads (boto3's documentation, "Multithreading"). The fix keeps one client per such key and
    hands it to every task, in every module of moto's Step Functions parser that imported the function. A test shows
    one client made for four tasks of two executions on two mocks, and the same executions as without the fix.
"""
from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from typing import Any

PINNED_MOTO_VERSION = "5.2.5"

FIXES = (
    "KMS key tags from CloudFormation",
    "Data Pipeline tags, description, parameters, update and delete from CloudFormation",
    "Data Pipeline definition API with parameter objects and values",
    "resource failures reported as CloudFormation events",
    "S3 bucket policies from CloudFormation",
    "Fn::GetStackOutput between stacks",
    "DynamoDB export ARNs, folders and manifests",
    "JSONata in Step Functions states",
    "PascalCase members in AWS SDK integrations",
    "EventBridge rules that start state machines",
    "Ref of an event bus from CloudFormation",
    "DynamoDB item reads answered without the shape walk (speed)",
    "DynamoDB items written without a size walk per attribute (speed)",
    "DynamoDB imports read line by line",
    "DynamoDB attribute sizes measured without copies (speed)",
    "DynamoDB items returned without the generic walk (speed)",
    "DynamoDB attribute values read without the shape walk (speed)",
    "DynamoDB items copied without copy.deepcopy per nested value (speed)",
    "CloudFormation JSON templates read without the YAML loader (speed)",
    "KMS private keys generated on first use (speed)",
    "botocore's endpoints read once per process (speed)",
    "botocore's service models read once per process (speed)",
    "Step Functions definitions validated once per text (speed)",
    "moto's service packages listed once per process (speed)",
    "Step Functions definitions parsed once per text (speed)",
    "Step Functions tasks' AWS clients made once per service and region (speed)",
)


class MotoFixError(RuntimeError):
    """The installed moto is not the one these fixes were written for."""


class ResourceFailure(Exception):
    """A resource handler failed; carries what CloudFormation would put in the failure event."""

    def __init__(self, logical_id: str, resource_type: str, reason: str) -> None:
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.reason = reason


def apply() -> tuple[str, ...]:
    import moto

    if moto.__version__ != PINNED_MOTO_VERSION:
        raise MotoFixError(
            f"moto {moto.__version__} is installed; the emulator's fixes are written for moto {PINNED_MOTO_VERSION} "
            "(pinned in requirements-dev.txt): run make setup"
        )
    fix_endpoint_data()  # first: importing moto's models below makes sessions
    fix_service_models()
    _fix_kms_key_tags()
    _fix_data_pipeline_resource()
    _fix_data_pipeline_api()
    _fix_resource_failures()
    _fix_bucket_policies()
    _fix_stack_outputs()
    fix_table_exports()
    fix_jsonata()
    fix_sdk_member_names()
    fix_rule_machine_targets()
    _fix_event_bus_ref()
    fix_item_responses()
    fix_item_writes()
    fix_table_imports()
    fix_attribute_sizes()
    fix_item_results()
    fix_attribute_requests()
    fix_item_copies()
    fix_template_reading()
    fix_kms_private_keys()
    fix_definition_validation()
    fix_module_list()
    fix_definition_parsing()
    fix_task_clients()
    return FIXES


def _require(owner: Any, name: str) -> Any:
    if not hasattr(owner, name):
        raise MotoFixError(f"moto {PINNED_MOTO_VERSION}: {getattr(owner, '__name__', owner)}.{name} is missing")
    return getattr(owner, name)


def _fix_kms_key_tags() -> None:
    from moto.kms.models import Key

    original = _require(Key, "create_from_cloudformation_json").__func__

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        properties = cloudformation_json.get("Properties", {})
        tags = properties.get("Tags")
        if tags:
            converted = [{"TagKey": t["Key"], "TagValue": t["Value"]} if "Key" in t else t for t in tags]
            cloudformation_json = {**cloudformation_json, "Properties": {**properties, "Tags": converted}}
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    Key.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)  # type: ignore[method-assign]


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _fix_data_pipeline_resource() -> None:
    from moto.datapipeline import models
    from moto.datapipeline.utils import remove_capitalization_of_dict_keys

    Pipeline = models.Pipeline
    _require(Pipeline, "create_from_cloudformation_json")

    def apply_properties(pipeline: Any, properties: dict[str, Any]) -> None:
        pipeline.description = properties.get("Description", "")
        pipeline.tags = [{"key": t["Key"], "value": t["Value"]} for t in properties.get("PipelineTags", [])]
        pipeline.set_pipeline_objects(properties.get("PipelineObjects", []))
        pipeline.parameter_objects = remove_capitalization_of_dict_keys(properties.get("ParameterObjects", []))
        pipeline.parameter_values = remove_capitalization_of_dict_keys(properties.get("ParameterValues", []))
        if _is_true(properties.get("Activate", True)):
            pipeline.activate()

    def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        backend = models.datapipeline_backends[account_id][region_name]
        pipeline = backend.create_pipeline(resource_name, "cf-" + resource_name)
        apply_properties(pipeline, cloudformation_json["Properties"])
        return pipeline

    def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        properties = cloudformation_json["Properties"]
        if new_resource_name != original_resource.name or properties.get("Description", "") != original_resource.description:
            # Name and Description are replacement properties: a new pipeline, then the old one goes.
            replacement = create_from_cloudformation_json(cls, new_resource_name, cloudformation_json, account_id, region_name)
            models.datapipeline_backends[account_id][region_name].delete_pipeline(original_resource.pipeline_id)
            return replacement
        apply_properties(original_resource, properties)
        return original_resource

    def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        backend = models.datapipeline_backends[account_id][region_name]
        for pipeline in list(backend.pipelines.values()):
            if pipeline.pipeline_id == resource_name or pipeline.name == resource_name:
                backend.delete_pipeline(pipeline.pipeline_id)

    def delete(self, account_id, region_name):  # type: ignore[no-untyped-def]
        models.datapipeline_backends[account_id][region_name].delete_pipeline(self.pipeline_id)

    Pipeline.create_from_cloudformation_json = classmethod(create_from_cloudformation_json)
    Pipeline.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
    Pipeline.delete_from_cloudformation_json = classmethod(delete_from_cloudformation_json)
    Pipeline.delete = delete
    Pipeline.parameter_objects = ()
    Pipeline.parameter_values = ()


def _fix_data_pipeline_api() -> None:
    import json

    from moto.datapipeline.responses import DataPipelineResponse

    _require(DataPipelineResponse, "get_pipeline_definition")
    _require(DataPipelineResponse, "put_pipeline_definition")

    def get_pipeline_definition(self):  # type: ignore[no-untyped-def]
        pipeline = self.datapipeline_backend.get_pipeline(self._get_param("pipelineId"))
        return json.dumps(
            {
                "pipelineObjects": [obj.to_json() for obj in pipeline.objects],
                "parameterObjects": list(pipeline.parameter_objects),
                "parameterValues": list(pipeline.parameter_values),
            }
        )

    def put_pipeline_definition(self):  # type: ignore[no-untyped-def]
        pipeline = self.datapipeline_backend.get_pipeline(self._get_param("pipelineId"))
        pipeline.set_pipeline_objects(self._get_param("pipelineObjects"))
        pipeline.parameter_objects = self._get_param("parameterObjects", [])
        pipeline.parameter_values = self._get_param("parameterValues", [])
        return json.dumps({"errored": False})

    DataPipelineResponse.get_pipeline_definition = get_pipeline_definition
    DataPipelineResponse.put_pipeline_definition = put_pipeline_definition


def _named_failures(handler: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(logical_id: str, resource_json: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(logical_id, resource_json, *args, **kwargs)
        except ResourceFailure:
            raise
        except Exception as error:  # any handler error is this resource's failure, as in CloudFormation
            reason = str(error) or type(error).__name__
            raise ResourceFailure(logical_id, resource_json.get("Type", "?"), f"{type(error).__name__}: {reason}") from error

    return wrapped


def _fix_resource_failures() -> None:
    from moto.cloudformation import models, parsing

    parsing.parse_and_create_resource = _named_failures(_require(parsing, "parse_and_create_resource"))
    parsing.parse_and_update_resource = _named_failures(_require(parsing, "parse_and_update_resource"))
    Stack = models.Stack
    original_create = _require(Stack, "create_resources")
    original_update = _require(Stack, "update")
    _require(Stack, "_add_stack_event")

    def resource_event(stack: Any, failure: ResourceFailure, status: str) -> None:
        stack.events.append(
            models.Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=failure.logical_id,
                physical_resource_id="",
                resource_type=failure.resource_type,
                resource_status=status,
                resource_status_reason=failure.reason,
                resource_properties=None,
            )
        )

    def create_resources(self):  # type: ignore[no-untyped-def]
        try:
            original_create(self)
        except ResourceFailure as failure:
            resource_event(self, failure, "CREATE_FAILED")
            self._add_stack_event(
                "ROLLBACK_IN_PROGRESS",
                resource_status_reason=f"The following resource(s) failed to create: [{failure.logical_id}]. Rollback requested by user.",
            )
            try:  # roll back what was created, as CloudFormation does
                self.resource_map.delete()
            except Exception:
                pass
            # A rolled-back stack has no resources and no outputs; without this, reading them would create
            # the resources lazily again, or fail on outputs that name them.
            self.resource_map._resource_json_map = {}
            self.output_map = parsing.OutputMap(self.resource_map, {}, self.stack_id)
            self.status = "ROLLBACK_COMPLETE"
            self._add_stack_event("ROLLBACK_COMPLETE")

    def update(self, template, role_arn=None, parameters=None, tags=None):  # type: ignore[no-untyped-def]
        previous, previous_resources = self.template, self.resource_map._resource_json_map
        try:
            original_update(self, template, role_arn=role_arn, parameters=parameters, tags=tags)
        except ResourceFailure as failure:
            resource_event(self, failure, "UPDATE_FAILED")
            # moto cannot roll an update back; keep the old template so that the next deploy retries, and
            # the old resource list so that reading the stack does not lazily create the failed resource.
            self.template = previous
            self._parse_template()
            self.resource_map._resource_json_map = previous_resources
            self.status = "UPDATE_FAILED"
            self._add_stack_event(
                "UPDATE_FAILED", resource_status_reason=f"The following resource(s) failed to update: [{failure.logical_id}]."
            )

    Stack.create_resources = create_resources
    Stack.update = update


def _fix_bucket_policies() -> None:
    import json

    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3 import models as s3_models
    from moto.utilities.utils import get_partition

    if "AWS::S3::BucketPolicy" in parsing.get_model_map():
        raise MotoFixError(f"moto {PINNED_MOTO_VERSION}: AWS::S3::BucketPolicy is modelled already; drop this fix")
    _require(s3_models.FakeBucket, "get_permission")

    def backend(account_id: str, region_name: str) -> Any:
        return s3_models.s3_backends[account_id][get_partition(region_name)]

    class BucketPolicy(CloudFormationModel):
        def __init__(self, bucket_name: str) -> None:
            self.bucket_name = bucket_name

        @property
        def physical_resource_id(self) -> str:
            return self.bucket_name

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::S3::BucketPolicy"

        @classmethod
        def has_cfn_attr(cls, attr: str) -> bool:
            return False

        @classmethod
        def create_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
            properties = cloudformation_json["Properties"]
            bucket = properties["Bucket"]
            backend(account_id, region_name).put_bucket_policy(bucket, json.dumps(properties["PolicyDocument"]).encode())
            return cls(bucket)

        @classmethod
        def update_from_cloudformation_json(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
            if cloudformation_json["Properties"]["Bucket"] != original_resource.bucket_name:
                original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(cls, resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
            cls(cloudformation_json["Properties"]["Bucket"]).delete(account_id, region_name)

        def delete(self, account_id: str, region_name: str) -> None:
            try:
                backend(account_id, region_name).delete_bucket_policy(self.bucket_name)
            except Exception:  # the bucket went first: nothing left to detach
                pass

        def is_created(self) -> bool:
            return True

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
    if parsing.get_model_map().get("AWS::S3::BucketPolicy") is not BucketPolicy:
        raise MotoFixError(f"moto {PINNED_MOTO_VERSION}: could not register AWS::S3::BucketPolicy")

    def get_permission(self, action, resource):  # type: ignore[no-untyped-def]
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy)
        statements = document.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        unconditional = [statement for statement in statements if not statement.get("Condition")]
        if not unconditional:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": unconditional})).is_action_permitted(action, resource)

    s3_models.FakeBucket.get_permission = get_permission


def _fix_stack_outputs() -> None:
    from moto.cloudformation import parsing
    from moto.cloudformation.models import cloudformation_backends

    original = _require(parsing, "clean_json")

    def clean_json(resource_json: Any, resources_map: Any) -> Any:
        if isinstance(resource_json, dict) and list(resource_json) == ["Fn::GetStackOutput"]:
            arguments = original(resource_json["Fn::GetStackOutput"], resources_map)
            region = arguments.get("Region") or resources_map._region_name
            backend = cloudformation_backends[resources_map._account_id][region]
            for stack in backend.stacks.values():
                if stack.name == arguments["StackName"] and stack.status != "DELETE_COMPLETE":
                    for output in stack.output_map.values():
                        if output is not None and output.key == arguments["OutputName"]:
                            return output.value
            raise ValueError(f"Fn::GetStackOutput: stack {arguments['StackName']} in {region} has no output {arguments['OutputName']}")
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def fix_table_exports() -> None:
    """Fix 7; also called by the tests that run native state machines on moto in their own process."""
    import gzip
    import hashlib
    import json
    import secrets
    import time
    import uuid

    from moto.dynamodb.models import table_export
    from moto.dynamodb.models.utilities import dynamo_json_dump

    export_class = table_export.TableExport
    original_init = _require(export_class, "__init__")
    _require(export_class, "_backup_to_s3_file")

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original_init(self, *args, **kwargs)
        # As DynamoDB's: the export's start in milliseconds, then 8 hex digits.
        self.export_id = f"{time.time_ns() // 1_000_000:014d}-{secrets.token_hex(4)}"
        self.arn = f"arn:{self.partition}:dynamodb:{self.region_name}:{self.account_id}:table/{self.table.name}/export/{self.export_id}"

    def backup_to_s3_file(self, s3_backend):  # type: ignore[no-untyped-def]
        folder = f"{self.s3_prefix}/AWSDynamoDB/{self.export_id}"
        lines = []
        for item in self.table.all_items():
            lines.append(dynamo_json_dump(item.to_json(root_attr_name="Item")))
            self.processed_bytes += len(lines[-1])
            self.item_count += 1
        body = gzip.compress(("\n".join(lines) + "\n" if lines else "").encode())
        data_key = f"{folder}/data/{uuid.uuid4().hex}.json.gz"
        s3_backend.put_object(bucket_name=self.s3_bucket, key_name=data_key, value=body)
        listing = {"itemCount": self.item_count, "md5Checksum": hashlib.md5(body).hexdigest(), "dataFileS3Key": data_key}
        s3_backend.put_object(bucket_name=self.s3_bucket, key_name=f"{folder}/manifest-files.json", value=(json.dumps(listing) + "\n").encode())
        summary = {"version": "2020-06-30", "exportArn": self.arn, "tableArn": self.table.table_arn, "s3Bucket": self.s3_bucket,
                   "s3Prefix": self.s3_prefix, "manifestFilesS3Key": f"{folder}/manifest-files.json", "itemCount": self.item_count,
                   "outputFormat": "DYNAMODB_JSON", "exportType": "FULL_EXPORT"}
        s3_backend.put_object(bucket_name=self.s3_bucket, key_name=f"{folder}/manifest-summary.json", value=json.dumps(summary).encode())
        self.status = "COMPLETED"

    export_class.__init__ = __init__  # type: ignore[method-assign]
    export_class._backup_to_s3_file = backup_to_s3_file  # type: ignore[method-assign]


def fix_jsonata() -> None:
    """Fix 8; also called by the tests that run native state machines on moto in their own process."""
    from jsonata import Jsonata
    from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata

    _require(moto_jsonata, "eval_jsonata_expression")
    _require(moto_jsonata, "_eval_jsonata")

    def evaluate(expression: str) -> Any:
        return Jsonata(expression).evaluate(None)

    moto_jsonata._eval_jsonata = evaluate


def _renamed(value: Any, shape: Any, name_of: Callable[[str, Any], str]) -> Any:
    """``value`` with every structure member renamed by ``name_of(key, structure shape)``, along ``shape``
    (a streamed body read as text)."""
    from botocore.response import StreamingBody

    if isinstance(value, StreamingBody):
        return value.read().decode("utf-8", errors="replace")
    if shape is None:
        return value
    if shape.type_name == "structure" and isinstance(value, dict):
        renamed = {}
        for key, item in value.items():
            member = name_of(key, shape)
            renamed[member] = _renamed(item, shape.members.get(member) or shape.members.get(key), name_of)
        return renamed
    if shape.type_name == "list" and isinstance(value, list):
        return [_renamed(item, shape.member, name_of) for item in value]
    if shape.type_name == "map" and isinstance(value, dict):
        return {key: _renamed(item, shape.value, name_of) for key, item in value.items()}
    return value


def _api_member(key: str, shape: Any) -> str:
    """The operation's own member name for a PascalCase key (``StateMachineArn`` -> ``stateMachineArn``)."""
    if key in shape.members:
        return key
    return next((member for member in shape.members if member.lower() == key.lower()), key)


def _pascal_member(key: str, shape: Any) -> str:
    return key[:1].upper() + key[1:]


def fix_sdk_member_names() -> None:
    """Fix 9; also called by the tests that run native state machines on moto in their own process."""
    import boto3
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_aws_sdk as sdk
    from moto.stepfunctions.parser.asl.utils import boto_client

    task = sdk.StateTaskServiceAwsSdk
    _require(task, "_eval_service_task")
    _require(sdk, "boto_client_for")

    def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):  # type: ignore[no-untyped-def]
        api_action = self._get_boto_service_action()
        # Read from its module at every call, so that fix 26's kept clients serve it too.
        client = boto_client.boto_client_for(service=self._get_boto_service_name(), region=resource_runtime_part.region,
                                             state_credentials=state_credentials)
        if state_credentials is not None and getattr(state_credentials, "role_arn", None):
            sts = boto_client.boto_client_for(service="sts", region=resource_runtime_part.region)
            assumed = sts.assume_role(RoleArn=state_credentials.role_arn, RoleSessionName="step-functions-task")["Credentials"]
            client = boto3.client(self._get_boto_service_name(), region_name=resource_runtime_part.region, config=client.meta.config,
                                  endpoint_url=client.meta.endpoint_url if "amazonaws.com" not in client.meta.endpoint_url else None,
                                  aws_access_key_id=assumed["AccessKeyId"], aws_secret_access_key=assumed["SecretAccessKey"],
                                  aws_session_token=assumed["SessionToken"])
        operation = client.meta.service_model.operation_model(client.meta.method_to_api_mapping[api_action])
        parameters = _renamed(normalised_parameters, operation.input_shape, _api_member)
        response = getattr(client, api_action)(**parameters) or {}
        response.pop("ResponseMetadata", None)
        env.stack.append(_renamed(response, operation.output_shape, _pascal_member) if response else response)

    task._eval_service_task = _eval_service_task
    _require(sdk, "_SERVICE_ERROR_NAMES")["s3"] = "S3"


def _input_path(event: dict[str, Any], path: str) -> Any:
    """The part of ``event`` an InputPath of dotted members (``$.detail``) selects."""
    if path == "$":
        return event
    if not path.startswith("$."):
        raise NotImplementedError(f"InputPath {path!r}: only $ and $.member.member... are emulated")
    value: Any = event
    for member in path[2:].split("."):
        value = value[member]
    return value


def fix_rule_machine_targets() -> None:
    """Fix 10; also called by the tests that run native state machines on moto in their own process."""
    import json
    import uuid

    from moto.events.models import Rule
    from moto.stepfunctions.responses import get_backend
    from moto.utilities.arns import parse_arn

    original = _require(Rule, "send_to_targets")

    def send_to_targets(self, original_event, transform_input=True):  # type: ignore[no-untyped-def]
        machines = [t for t in self.targets if parse_arn(t["Arn"]).service == "states"]
        others = [t for t in self.targets if t not in machines]
        if machines and self.event_pattern.matches_event(original_event):
            for target in machines:
                arn = parse_arn(target["Arn"])
                if "Input" in target:
                    execution_input = target["Input"]
                else:
                    execution_input = json.dumps(_input_path(dict(original_event), target.get("InputPath", "$")))
                get_backend(arn.account, arn.region).start_execution(target["Arn"], name=uuid.uuid4().hex, execution_input=execution_input)
        if others:
            saved, self.targets = self.targets, others
            try:
                original(self, original_event, transform_input)
            finally:
                self.targets = saved

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def _fix_event_bus_ref() -> None:
    from moto.events.models import EventBus

    if "physical_resource_id" in EventBus.__dict__:
        raise MotoFixError("moto's EventBus has a physical_resource_id of its own now: fix 11 may be obsolete")
    EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]


ITEM_READS = ("Scan", "Query", "GetItem", "BatchGetItem")


def _json_bytes(value: Any) -> str:
    import base64

    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"{type(value).__name__} is not JSON")  # a datetime: the shape walk formats it


def _without_items(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key not in ("Items", "Item", "Responses")}


def fix_item_responses() -> None:
    """Fix 12 (speed): DynamoDB's item reads written with json.dumps instead of moto's shape walk."""
    import json

    from moto.dynamodb.responses import DynamoResult

    original = _require(DynamoResult, "execute_result")

    def execute_result(self, context):  # type: ignore[no-untyped-def]
        result = self.result
        if context.operation_model.name not in ITEM_READS or not isinstance(result, dict):
            return original(self, context)
        try:
            body = json.dumps(result, default=_json_bytes, separators=(",", ":"))
        except TypeError:
            return original(self, context)
        self._result = _without_items(result)
        try:
            status, headers, _ = original(self, context)
        finally:
            self._result = result
        return status, headers, body

    DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


# The limit moto 5.2.5's LimitedSizeDict.__setitem__ applies (moto/dynamodb/models/dynamo_type.py, read there).
MOTO_ITEM_SIZE_LIMIT = 405000


def fix_item_writes() -> None:
    """Fix 13 (speed): an item's size summed once when moto builds it, not once per attribute."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
    from moto.dynamodb.models.utilities import bytesize

    _require(Item, "__init__")
    _require(LimitedSizeDict, "__setitem__")

    def __init__(self, hash_key, range_key, attrs):  # type: ignore[no-untyped-def]
        self.hash_key = hash_key
        self.range_key = range_key
        values = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in values.items()) > MOTO_ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(self.attrs)
        for key, value in values.items():
            dict.__setitem__(self.attrs, key, value)

    Item.__init__ = __init__  # type: ignore[method-assign]


def fix_table_imports() -> None:
    """Fix 14: ImportTable's DynamoDB JSON read one item a line."""
    import json

    from moto.core.utils import gzip_decompress
    from moto.dynamodb.models import table_import

    import_class = table_import.TableImport
    _require(import_class, "_process_s3_files")

    def _process_s3_files(self, s3_backend, bucket):  # type: ignore[no-untyped-def]
        from moto.dynamodb.models import dynamodb_backends

        dynamo = dynamodb_backends[self.account_id][self.region_name]
        self.table = dynamo.create_table(  # as moto 5.2.5's own _process_s3_files creates it (read there)
            name=self.table_name, billing_mode=self.billing_mode, throughput=self.throughput, schema=self.key_schema,
            global_indexes=self.global_indexes, indexes=None, attr=self.attrs, sse_specification=None, streams=None,
            tags=[], deletion_protection_enabled=False, warm_throughput=None,
        )
        keys, _, _, _ = s3_backend.list_objects(bucket, prefix=self.s3_source.get("S3KeyPrefix"), delimiter=None,
                                                marker=None, max_keys=None)
        for key in keys:
            content = gzip_decompress(key.value) if self.compression_type == "GZIP" else key.value
            for line in content.decode("utf-8").splitlines():
                if not line.strip():
                    continue
                self.processed_count += 1
                self.processed_bytes += len(line)
                try:
                    self.table.put_item(item_attrs=json.loads(line)["Item"])
                    self.imported_count += 1
                except Exception as error:  # as moto counts a put that fails
                    self.failure_message = str(error)
                    self.error_count += 1
        self.status = "COMPLETED" if self.error_count == 0 else "FAILED"

    import_class._process_s3_files = _process_s3_files  # type: ignore[method-assign]


SET_TYPES = ("SS", "NS", "BS")


def fix_attribute_sizes() -> None:
    """Fix 15 (speed): ``DynamoType.size`` without a new DynamoType per set member or map value."""
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.utilities import bytesize

    _require(DynamoType, "size")

    def value_size(kind: str, value: Any) -> int:
        # Each branch as moto 5.2.5's DynamoType.size measures it (moto/dynamodb/models/dynamo_type.py, read there).
        if kind == "N":
            return len(str(value))
        if kind in SET_TYPES:
            member = kind[0]
            return sum(value_size(member, v) for v in value)
        if kind == "L":
            return sum(v.size() for v in value)
        if kind == "M":
            return sum(bytesize(k) + (value_size(v.type, v.value) if type(v) is DynamoType else DynamoType(v).size())
                       for k, v in value.items())
        if isinstance(value, bool):
            return 1
        return bytesize(value)

    def size(self):  # type: ignore[no-untyped-def]
        return value_size(self.type, self.value)

    DynamoType.size = size  # type: ignore[method-assign]


def fix_item_results() -> None:
    """Fix 16 (speed): the items of a DynamoDB answer made plain by their type, not by moto's generic walk."""
    import base64
    from datetime import datetime

    from moto.dynamodb import responses
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    generic = _require(responses, "dynamo_to_dict")
    plain_types = (str, int, float, bool, type(None), bytes)

    def attribute(value: Any) -> Any:
        kind, raw = value.type, value.value
        if kind == "B":
            return {"B": raw if isinstance(raw, bytes) else base64.b64decode(raw)}
        if kind == "BS":
            return {"BS": [v if isinstance(v, bytes) else base64.b64decode(v) for v in raw]}
        return {kind: plain(raw)}

    def plain(value: Any) -> Any:
        kind = type(value)
        if kind in plain_types:
            return value
        if kind is DynamoType:
            return attribute(value)
        if kind is dict or kind is LimitedSizeDict:
            return {key: plain(member) for key, member in value.items()}
        if kind is list:
            return [plain(member) for member in value]
        if isinstance(value, datetime):
            return value
        return generic(value)  # an object with to_json, a subclass: as moto does

    responses.dynamo_to_dict = plain


def fix_attribute_requests() -> None:
    """Fix 17 (speed): a DynamoDB request's attribute values read directly, not member by member along their shape."""
    import base64

    from moto.core.parse import BaseJSONParser

    from .item_parser import Unusual, read_attribute

    walk = _require(BaseJSONParser, "_parse_structure")

    def read(value: Any) -> Any:
        # What moto 5.2.5's JSON parser makes of each member (moto/core/parse.py, read there): the grammar botocore's
        # response parser reads too, with blobs from base64.
        return read_attribute(value, blob=base64.b64decode)

    def _parse_structure(self, shape, value):  # type: ignore[no-untyped-def]
        if shape.name == "AttributeValue" and self.MAP_TYPE is dict and self.operation_model.service_model.service_name == "dynamodb":
            try:
                return read(value)
            except (Unusual, ValueError, TypeError):
                pass  # moto's walk decides: the same result, or the same error
        return walk(self, shape, value)

    BaseJSONParser._parse_structure = _parse_structure  # type: ignore[method-assign]


def fix_item_copies() -> None:
    """Fix 18 (speed): an item's and an attribute value's deep copy recursing directly, as moto's own does."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    _require(DynamoType, "__deepcopy__")
    _require(Item, "__deepcopy__")

    def nested(value: Any, memo: dict[int, Any]) -> Any:
        return value.__deepcopy__(memo) if type(value) is DynamoType else copy.deepcopy(value, memo)

    def value_copy(self, memo):  # type: ignore[no-untyped-def]
        # As moto 5.2.5's DynamoType.__deepcopy__ (moto/dynamodb/models/dynamo_type.py, read there).
        found = memo.get(id(self))
        if found is not None:
            return found
        result = self.__class__.__new__(self.__class__)
        memo[id(self)] = result
        result.type = kind = self.type
        if kind == "L":
            result.value = [nested(v, memo) for v in self.value]
        elif kind == "M":
            result.value = {k: nested(v, memo) for k, v in self.value.items()}
        elif kind in SET_TYPES:
            result.value = list(self.value)
        else:
            result.value = self.value
        return result

    def item_copy(self, memo):  # type: ignore[no-untyped-def]
        # As moto 5.2.5's Item.__deepcopy__ (the same file): no size check per attribute, the source passed it.
        found = memo.get(id(self))
        if found is not None:
            return found
        result = self.__class__.__new__(self.__class__)
        memo[id(self)] = result
        result.hash_key = nested(self.hash_key, memo)
        result.range_key = nested(self.range_key, memo)
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        dict.__init__(attrs)
        for key, value in self.attrs.items():
            dict.__setitem__(attrs, key, nested(value, memo))
        result.attrs = attrs
        return result

    DynamoType.__deepcopy__ = value_copy  # type: ignore[method-assign]
    Item.__deepcopy__ = item_copy  # type: ignore[method-assign]


# What PyYAML reads otherwise than JSON does inside a JSON text: an escaped surrogate (JSON pairs two into one
# character, PyYAML keeps each), a character PyYAML's reader refuses (yaml/reader.py NON_PRINTABLE, 6.0.4), and the
# characters YAML 1.1 counts as line breaks, which it folds inside a quoted string (NEL, LS, PS).
_NOT_READ_AS_JSON = re.compile(
    r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|[^\x09\x0A\x0D\x20-\x7E\xA0-\uD7FF\uE000-\uFFFD\U00010000-\U0010ffff]|[\u2028\u2029]"
)


def json_as_yaml(text: Any) -> Any:
    """What ``yaml.load(text, Loader=yaml.Loader)`` gives for a JSON text, read with ``json.loads``; ``_MISSING`` when
    the text is not JSON or holds something PyYAML reads otherwise (then only PyYAML can say)."""
    import json

    import yaml

    if not isinstance(text, str) or _NOT_READ_AS_JSON.search(text):
        return _MISSING
    loader = yaml.Loader("")

    def plain(scalar: str) -> Any:  # a number or a constant, as PyYAML reads the same plain scalar
        node = yaml.ScalarNode(loader.resolve(yaml.ScalarNode, scalar, (True, False)), scalar)
        return loader.construct_object(node, deep=True)

    try:
        return json.loads(text, parse_int=plain, parse_float=plain, parse_constant=plain)
    except ValueError:
        return _MISSING
    finally:
        loader.dispose()


_MISSING = object()


class _JsonFirstYaml:
    """The ``yaml`` module as moto's CloudFormation sees it, with ``load`` trying ``json_as_yaml`` first."""

    def __init__(self, real: Any) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def load(self, stream: Any, Loader: Any) -> Any:  # noqa: N803 (PyYAML's own parameter name)
        if Loader is self._real.Loader:
            found = json_as_yaml(stream)
            if found is not _MISSING:
                return found
        return self._real.load(stream, Loader=Loader)


def fix_template_reading() -> None:
    """Fix 19 (speed): JSON templates read with ``json.loads`` where moto reads them with PyYAML."""
    import yaml
    from moto.cloudformation import models, responses

    for module in (models, responses):
        seen = _require(module, "yaml")
        if seen is yaml:
            module.yaml = _JsonFirstYaml(yaml)  # type: ignore[attr-defined]
        elif not isinstance(seen, _JsonFirstYaml):
            raise MotoFixError(f"moto {PINNED_MOTO_VERSION}: {module.__name__}.yaml is not PyYAML")


class _LazyPrivateKey:
    """The private key moto's ``generate_private_key`` makes for ``key_spec``, made on first use."""

    def __init__(self, generate: Callable[[str], Any], key_spec: str) -> None:
        self._generate = generate
        self._key_spec = key_spec
        self._key: Any = None
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # sign, verify, public_key, and any attribute of the key
        with self._lock:
            if self._key is None:
                self._key = self._generate(self._key_spec)
        return getattr(self._key, name)


def fix_kms_private_keys() -> None:
    """Fix 20 (speed): a KMS key's private key generated when a call first uses it."""
    from moto.kms import models

    generate = _require(models, "generate_private_key")
    if isinstance(generate, functools.partial):
        return  # applied already
    models.generate_private_key = functools.partial(_LazyPrivateKey, generate)  # type: ignore[attr-defined]


ENDPOINTS = "endpoints"  # the data botocore's EndpointResolver is built from (botocore/session.py, create_default_resolver)


def _keep_loader_answers(method: str, key: Callable[..., tuple[Any, ...] | None]) -> None:
    """botocore's ``Loader.<method>`` answering each question once per process, kept under what ``key`` makes of the
    loader and the call's arguments (None: not kept, asked of botocore every time). A failure is never kept: it raises
    again on the next call."""
    from botocore import loaders

    original = _require(loaders.Loader, method)
    if getattr(original, "kept_per_process", False):
        return  # applied already
    kept: dict[tuple[Any, ...], Any] = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def answer(self, *arguments, **named):  # type: ignore[no-untyped-def]
        found = key(self, *arguments, **named)
        if found is None:
            return original(self, *arguments, **named)
        with lock:
            if found not in kept:
                kept[found] = original(self, *arguments, **named)
            return kept[found]

    answer.kept_per_process = True  # type: ignore[attr-defined]
    setattr(loaders.Loader, method, answer)


def fix_endpoint_data() -> None:
    """Fix 21 (speed): botocore's endpoints data read once per process, not once per session (a session with other
    data paths reads its own)."""
    _keep_loader_answers("load_data_with_path", lambda loader, name: (tuple(loader.search_paths),) if name == ENDPOINTS else None)


def fix_service_models() -> None:
    """Fix 22 (speed): botocore's service models read once per process, not once per session (a loader with other data
    paths or extras reads its own; a failure, an unknown service, is not kept)."""
    _keep_loader_answers("load_service_model", lambda loader, service_name, type_name, api_version=None: (
        tuple(loader.search_paths), tuple(loader.extras_types), service_name, type_name, api_version))


def fix_definition_validation() -> None:
    """Fix 23 (speed): a state machine definition moto accepted once is not parsed again to validate it."""
    from moto.stepfunctions.parser import models

    backend = _require(models, "StepFunctionsParserBackend")
    original = _require(backend, "_validate_definition")
    if getattr(original, "validated_once", False):
        return  # applied already
    valid: set[str] = set()
    lock = threading.Lock()

    def _validate_definition(definition: str) -> None:
        with lock:
            if definition in valid:
                return
        original(definition=definition)  # raises InvalidDefinition for a definition moto refuses: never kept
        with lock:
            valid.add(definition)

    _validate_definition.validated_once = True  # type: ignore[attr-defined]
    backend._validate_definition = staticmethod(_validate_definition)


# Parse trees kept by fix 25, at most this many texts (a long-running emulator that sees new definitions forgets the oldest).
KEPT_PARSE_TREES = 256


def fix_definition_parsing() -> None:
    """Fix 25 (speed): a definition's parse tree is kept per text; every parse still builds its own program from it."""
    from moto.stepfunctions.parser.asl.parse import asl_parser, preprocessor

    parser = _require(asl_parser, "AmazonStateLanguageParser")
    original = _require(parser, "parse")
    build = _require(preprocessor, "Preprocessor")
    if getattr(original, "trees_kept", False):
        return  # applied already
    trees: dict[str, Any] = {}
    lock = threading.Lock()

    def parse(definition: str) -> tuple[Any, Any]:
        with lock:
            tree = trees.get(definition)
        if tree is None:
            program, tree = original(definition)  # raises ASLParserException for a text ANTLR refuses: never kept
            with lock:
                if len(trees) >= KEPT_PARSE_TREES:
                    del trees[next(iter(trees))]
                trees[definition] = tree
            return program, tree
        return build().visit(tree), tree

    parse.trees_kept = True  # type: ignore[attr-defined]
    parser.parse = staticmethod(parse)


def fix_module_list() -> None:
    """Fix 24 (speed): moto's list of its own service packages read from disk once per process, not once per request."""
    from moto import backends

    original = _require(backends, "list_of_moto_modules")
    if getattr(original, "listed_once", False):
        return  # applied already
    listed: list[tuple[str, ...]] = []
    lock = threading.Lock()

    @functools.wraps(original)
    def list_of_moto_modules() -> Any:
        with lock:
            if not listed:
                listed.append(tuple(original()))
        return iter(listed[0])  # an iterator, as moto's generator is

    list_of_moto_modules.listed_once = True  # type: ignore[attr-defined]
    backends.list_of_moto_modules = list_of_moto_modules  # type: ignore[attr-defined]


def task_client_modules() -> list[Any]:
    """The modules of moto's Step Functions interpreter that hold ``boto_client_for`` (each imported it by name): fix 26
    replaces it in each, and the tests that apply the fix put each back. Every task's module is imported first, through
    the factory that imports them all."""
    import sys

    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_factory  # noqa: F401

    return [module for name, module in list(sys.modules.items())
            if name.startswith("moto.stepfunctions.") and hasattr(module, "boto_client_for")]


def fix_task_clients() -> None:
    """Fix 26 (speed): a Step Functions task's AWS client made once per region, service and endpoint, not once per task."""
    from moto.stepfunctions.parser.asl.utils import boto_client

    original = _require(boto_client, "boto_client_for")
    if getattr(original, "clients_kept", False):
        return  # applied already
    stubber = _require(boto_client, "botocore_stubber")
    server_port = _require(boto_client, "moto_server_port")
    kept: dict[tuple[str, str, bool, str], Any] = {}
    lock = threading.Lock()

    @functools.wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # What moto's function makes a client of; it reads these two when it makes one.
        key = (region, service, bool(stubber.enabled), server_port())
        with lock:
            client = kept.get(key)
            if client is None:
                client = kept[key] = original(region=region, service=service, state_credentials=state_credentials)
        return client

    boto_client_for.clients_kept = True  # type: ignore[attr-defined]
    for module in task_client_modules():
        if module.boto_client_for is original:
            module.boto_client_for = boto_client_for
