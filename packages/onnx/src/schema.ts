/**
 * The part of ONNX's `onnx.proto` (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto, IR version 8) that
 * the exporter writes, as a protobufjs JSON descriptor: the message and field names are camelCased, the field
 * numbers and types are the schema's, so the bytes are ONNX's wire format. protobufjs encodes it; nothing here
 * is a protobuf codec of its own.
 */
import protobuf from "protobufjs/light.js";

const repeated = (type: string, id: number) => ({ rule: "repeated", type, id });
const one = (type: string, id: number) => ({ type, id });

const descriptor = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: one("string", 1),
            refAttrName: one("string", 21),
            docString: one("string", 13),
            type: one("int32", 20),
            f: one("float", 2),
            i: one("int64", 3),
            s: one("bytes", 4),
            t: one("TensorProto", 5),
            g: one("GraphProto", 6),
            floats: { ...repeated("float", 7), options: { packed: false } },
            ints: { ...repeated("int64", 8), options: { packed: false } },
            strings: repeated("bytes", 9),
            tensors: repeated("TensorProto", 10),
            graphs: repeated("GraphProto", 11),
          },
        },
        ValueInfoProto: {
          fields: { name: one("string", 1), type: one("TypeProto", 2), docString: one("string", 3) },
        },
        NodeProto: {
          fields: {
            input: repeated("string", 1),
            output: repeated("string", 2),
            name: one("string", 3),
            opType: one("string", 4),
            domain: one("string", 7),
            attribute: repeated("AttributeProto", 5),
            docString: one("string", 6),
          },
        },
        StringStringEntryProto: { fields: { key: one("string", 1), value: one("string", 2) } },
        ModelProto: {
          fields: {
            irVersion: one("int64", 1),
            opsetImport: repeated("OperatorSetIdProto", 8),
            producerName: one("string", 2),
            producerVersion: one("string", 3),
            domain: one("string", 4),
            modelVersion: one("int64", 5),
            docString: one("string", 6),
            graph: one("GraphProto", 7),
            metadataProps: repeated("StringStringEntryProto", 14),
          },
        },
        GraphProto: {
          fields: {
            node: repeated("NodeProto", 1),
            name: one("string", 2),
            initializer: repeated("TensorProto", 5),
            docString: one("string", 10),
            input: repeated("ValueInfoProto", 11),
            output: repeated("ValueInfoProto", 12),
            valueInfo: repeated("ValueInfoProto", 13),
          },
        },
        TensorProto: {
          fields: {
            dims: { ...repeated("int64", 1), options: { packed: false } },
            dataType: one("int32", 2),
            floatData: repeated("float", 4),
            int32Data: repeated("int32", 5),
            stringData: repeated("bytes", 6),
            int64Data: repeated("int64", 7),
            name: one("string", 8),
            docString: one("string", 12),
            rawData: one("bytes", 9),
            doubleData: repeated("double", 10),
            uint64Data: repeated("uint64", 11),
          },
        },
        TensorShapeProto: {
          fields: { dim: repeated("Dimension", 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dimValue", "dimParam"] } },
              fields: { dimValue: one("int64", 1), dimParam: one("string", 2), denotation: one("string", 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensorType"] } },
          fields: { tensorType: one("Tensor", 1), denotation: one("string", 6) },
          nested: {
            Tensor: { fields: { elemType: one("int32", 1), shape: one("TensorShapeProto", 2) } },
          },
        },
        OperatorSetIdProto: { fields: { domain: one("string", 1), version: one("int64", 2) } },
      },
    },
  },
};

let modelProto: protobuf.Type | null = null;

/** `onnx.ModelProto`, built from the descriptor on first use. */
export function modelProtoType(): protobuf.Type {
  modelProto ??= protobuf.Root.fromJSON(descriptor).lookupType("onnx.ModelProto");
  return modelProto;
}

/** ONNX's `TensorProto.DataType` values that Cinder's dtypes map to. */
export const DATA_TYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  bfloat16: 16,
} as const;

/** ONNX's `AttributeProto.AttributeType` values the exporter writes. */
export const ATTRIBUTE_TYPE = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7 } as const;
