"""The local runner's reading of a connector step's Hadoop options: gzip as the project's export writes it,
the older property name, no compression, and a codec the runner cannot write refused."""
from __future__ import annotations

import pytest

from ddb_datapipeline.definition.export import GZIP_OUTPUT_OPTIONS
from local_deploy.drill_run import gzip_output


def test_the_projects_export_options_mean_gzip():
    assert gzip_output(list(GZIP_OUTPUT_OPTIONS)) is True
    assert gzip_output(["-Dmapred.output.compress=true", "-Dmapred.output.compression.codec=org.apache.hadoop.io.compress.GzipCodec"])
    assert gzip_output([]) is False and gzip_output(["-Dmapreduce.output.fileoutputformat.compress=false"]) is False


@pytest.mark.parametrize("codec", [None, "org.apache.hadoop.io.compress.BZip2Codec"])
def test_another_codec_is_refused_rather_than_written_as_gzip(codec):
    options = ["-Dmapreduce.output.fileoutputformat.compress=true", *([f"-Dmapreduce.output.fileoutputformat.compress.codec={codec}"] if codec else [])]
    with pytest.raises(ValueError, match="is not one this runner writes"):
        gzip_output(options)


def test_a_cluster_runs_the_copy_its_count_and_a_retry_of_each_because_every_script_drops_first():
    """Hive keeps a cluster's tables for the cluster's life (the runner's hive_catalogue models it): the
    projection, then the count, then both again (a retry) on one cluster work only because each script
    drops ddb_source and ddb_target first; the same scripts without the drops fail on the second CREATE."""
    import dataclasses

    from ddb_datapipeline.definition.hive_tables import PREAMBLE
    from local_deploy.drill_access import RunFailed
    from local_deploy.drill_run import hive_catalogue
    from tests.unit.test_hive_projection import SELECTION, definition

    built = definition(dataclasses.replace(SELECTION, verify_keys=("pk", "sk")))
    scripts = [built.object(activity).value("hiveScript") or "" for activity in ("CopyActivity", "VerifyActivity")]
    tables: set[str] = set()
    for script in scripts * 2:
        tables = hive_catalogue(tables, script, "CopyActivity")
    assert tables == {"ddb_source", "ddb_target"}
    without_drops = [script.replace(f"{PREAMBLE[1]};\n", "").replace(f"{PREAMBLE[2]};\n", "") for script in scripts]
    tables = hive_catalogue(set(), without_drops[0], "CopyActivity")
    with pytest.raises(RunFailed, match="VerifyActivity: Hive has a table ddb_source on this cluster already"):
        hive_catalogue(tables, without_drops[1], "VerifyActivity")
