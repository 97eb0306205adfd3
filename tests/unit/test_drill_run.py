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
